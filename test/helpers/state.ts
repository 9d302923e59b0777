import type { RequestState } from '../../common/contracts/state.js';
import { PROFILES } from '../../common/profiles.js';
import { initialTasks } from '../../functions/orchestrator/decide.js';

export const T0 = '2026-11-25T10:00:00.000Z';

/** A fresh RUNNING request as the orchestrator creates it, with `run` params overridable. */
export function makeState(run: Partial<RequestState['params']['run']> = {}): RequestState {
  const params = structuredClone(PROFILES.default);
  Object.assign(params.run, run);
  return {
    schema_version: 1,
    request_id: 'r_test0001',
    status: 'RUNNING',
    created_at: T0,
    updated_at: T0,
    expires_at: '2026-11-26T10:00:00.000Z',
    profile: 'default',
    params,
    request: { video_uri: 'store://uploads/a.mp4', query: 'find cars' },
    input_key: 'requests/r_test0001/input/source.mp4',
    lease: { owner: 'test', expires_at: '2026-11-25T10:01:00.000Z' },
    runs: 1,
    clips: null,
    failed_clips: [],
    stages: {},
    tasks: initialTasks(),
    callbacks: [],
    cancel_requested: false,
    error: null,
  };
}
