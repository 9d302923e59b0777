import type { ErrorInfo } from '../contracts/common.js';
import { FINAL_STATUSES, type FinalStatus, type RequestStatus } from '../contracts/request.js';
import type { Lease, RequestState, TaskState } from '../contracts/state.js';
import type { TaskKey } from '../task-key.js';
import { InvalidTransitionError } from './transitions.js';

/**
 * A request's lifecycle, read by the orchestrator, the sweeper and the CLI:
 * whether it is finished, who drives it (its lease), and the one way it ends.
 * A request is INIT until its source is copied (its first task, copy-source,
 * succeeded), RUNNING from then on (with pauses between drivers), and ends in
 * a final status that nothing leaves.
 */

export function isTerminal(status: RequestStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly RequestStatus[]).includes(status);
}

/** The moves out of a status that is not final; a request succeeds only after it ran. */
const MOVES: Record<Exclude<RequestStatus, FinalStatus>, readonly FinalStatus[]> = {
  INIT: FINAL_STATUSES.filter((s) => s !== 'SUCCEEDED'),
  RUNNING: FINAL_STATUSES,
};

/**
 * Ends the request with `status` (checked: nothing leaves a final status, and
 * INIT cannot succeed) and frees its lease. Changes top-level fields only, so a
 * shallow copy of a 40 000-task state can be finished without copying the tasks.
 */
export function finishRequest(
  state: RequestState,
  status: FinalStatus,
  error: ErrorInfo | null,
  at: string,
): void {
  const from = state.status;
  if (isTerminal(from) || !MOVES[from].includes(status)) {
    throw new InvalidTransitionError('request', from, status);
  }
  state.status = status;
  state.error = error;
  state.updated_at = at;
  state.lease = null;
}

export type LeaseState = 'none' | 'live' | 'expired';

/**
 * Whether someone drives the request at `now`. `graceMs` counts a lease that
 * expired less than that long ago as live (its driver may be between writes).
 */
export function leaseState(state: Pick<RequestState, 'lease'>, now: Date, graceMs = 0): LeaseState {
  if (!state.lease) return 'none';
  return Date.parse(state.lease.expires_at) + graceMs > now.getTime() ? 'live' : 'expired';
}

/** True when a driver other than `owner` holds a lease that has not expired. */
export function leaseHeldByOther(state: RequestState, owner: string, now: Date): boolean {
  return leaseState(state, now) === 'live' && state.lease?.owner !== owner;
}

/**
 * True while `owner`'s name is on the lease of an unfinished request (even
 * past its expiry: nobody else has taken it), so its writes still count.
 */
export function ownsLease(state: RequestState, owner: string): boolean {
  return state.lease?.owner === owner && !isTerminal(state.status);
}

export function leaseFor(owner: string, now: Date, leaseMs: number): Lease {
  return { owner, expires_at: new Date(now.getTime() + leaseMs).toISOString() };
}

/** Extends `owner`'s lease in place; false (and nothing changes) when it is not theirs. */
export function renewLease(state: RequestState, owner: string, now: Date, leaseMs: number): boolean {
  if (!ownsLease(state, owner)) return false;
  state.lease = leaseFor(owner, now, leaseMs);
  return true;
}

/**
 * Takes the lease on `state` in place when it is free, expired or ours.
 * Returns false (and changes nothing) when the request is finished or another
 * driver holds it. The caller persists with compare-and-swap, so of two
 * drivers taking an expired lease at once exactly one wins.
 */
export function takeLease(state: RequestState, owner: string, now: Date, leaseMs: number): boolean {
  if (isTerminal(state.status) || leaseHeldByOther(state, owner, now)) return false;
  state.lease = leaseFor(owner, now, leaseMs);
  state.runs += 1;
  state.updated_at = now.toISOString();
  return true;
}

/** The request's source is in place: INIT → RUNNING (decide.ts, when a task first succeeds). */
export function markRunning(state: RequestState): void {
  if (state.status === 'INIT') state.status = 'RUNNING';
}

/** The source copy's task in state.json (the first row of the pipeline, common/contracts/pipeline.ts). */
export function sourceTask(state: RequestState): TaskState | undefined {
  return state.tasks['copy-source' satisfies TaskKey];
}

/**
 * True while an unfinished request waits out the backoff before its source is
 * copied again (its copy-source task's retry_at): nobody drives it meanwhile,
 * and a resume before then does nothing.
 */
export function waitsToCopySource(state: RequestState, now: Date): boolean {
  const copy = sourceTask(state);
  return (
    !isTerminal(state.status) &&
    copy?.status === 'PENDING' &&
    copy.retry_at !== undefined &&
    Date.parse(copy.retry_at) > now.getTime()
  );
}
