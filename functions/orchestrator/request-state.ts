import type { Profile } from '../../common/contracts/profile.js';
import type { RequestState } from '../../common/contracts/state.js';
import { leaseFor } from '../../common/state/lifecycle.js';
import { initialTasks } from './decide.js';

/** What a new request is made of: everything else in its state.json starts empty. */
export interface NewRequest {
  id: string;
  /** Whose results it shares: recorded, so that resume and assembly use the one it started with. */
  namespace: string;
  /** The profile's name, as submitted. */
  profile: string;
  /** The profile resolved with its overrides. */
  params: Profile;
  request: RequestState['request'];
  /** The lease's owner: the orchestrator that accepted the request. */
  owner: string;
  at: Date;
  /** Past created_at + ttlMs the sweeper expires a request that has not finished. */
  ttlMs: number;
  leaseMs: number;
}

/**
 * The state.json of a request just accepted: INIT, no runs yet, every request-level
 * task PENDING. The lease is held from the start, while the source is copied, so the
 * sweeper leaves the request alone.
 */
export function newRequestState(n: NewRequest): RequestState {
  const at = n.at.toISOString();
  const after = (ms: number) => new Date(n.at.getTime() + ms).toISOString();
  return {
    schema_version: 1,
    request_id: n.id,
    status: 'INIT',
    created_at: at,
    updated_at: at,
    expires_at: after(n.ttlMs),
    namespace: n.namespace,
    profile: n.profile,
    params: n.params,
    request: n.request,
    lease: leaseFor(n.owner, n.at, n.leaseMs),
    runs: 0,
    clips: null,
    failed_clips: [],
    stages: {},
    tasks: initialTasks(),
    callbacks: [],
    cancel_requested: false,
    error: null,
  };
}
