import type { RequestState } from '../../common/contracts/state.js';
import { requestKeys } from '../../common/keys.js';
import { PROFILES } from '../../common/profiles.js';
import type { SourceRetry } from '../../functions/orchestrator/decide.js';
import { newRequestState } from '../../functions/orchestrator/request-state.js';

export const T0 = '2026-11-25T10:00:00.000Z';

/** The orchestrator's retry policy for the source copy, as decisions get it (config.ts). */
export const SOURCE_RETRY: SourceRetry = {
  sourceAttempts: 3,
  sourceBackoffMs: 1000,
  sourceBackoffMaxMs: 8000,
};

/** A fresh RUNNING request as the orchestrator creates it, its source copied, with `run` params overridable. */
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
  const copied = {
    status: 'SUCCEEDED',
    attempts: 1,
    started_at: T0,
    finished_at: T0,
    duration_ms: 0,
    manifest: requestKeys(state.request_id).localManifest('copy-source'),
  } as const;
  return {
    ...state,
    status: 'RUNNING',
    runs: 1,
    stages: { 'copy-source': { status: 'SUCCEEDED', done: 1, failed: 0, total: 1 } },
    tasks: { ...state.tasks, 'copy-source': copied },
  };
}
