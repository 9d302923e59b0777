import type { RequestState } from '../../common/contracts/state.js';
import { PROFILES } from '../../common/profiles.js';
import { newRequestState } from '../../functions/orchestrator/request-state.js';

export const T0 = '2026-11-25T10:00:00.000Z';

/** A fresh RUNNING request as the orchestrator creates it, with `run` params overridable. */
export function makeState(run: Partial<RequestState['params']['run']> = {}): RequestState {
  const params = structuredClone(PROFILES.default);
  Object.assign(params.run, run);
  const state = newRequestState({
    id: 'r_test0001',
    namespace: 'default',
    profile: 'default',
    params,
    request: { video_uri: 'store://uploads/a.mp4', query: 'find cars' },
    owner: 'test',
    at: new Date(T0),
    ttlMs: 86_400_000,
    leaseMs: 60_000,
  });
  return { ...state, status: 'RUNNING', input_key: 'requests/r_test0001/input/source.mp4', runs: 1 };
}
