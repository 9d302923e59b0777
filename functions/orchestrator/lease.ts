import type { RequestState } from '../../common/contracts/state.js';
import { isTerminal } from '../../common/state/transitions.js';

/** True when another driver holds a lease that has not expired. */
export function leaseHeldByOther(state: RequestState, owner: string, now: Date): boolean {
  return (
    state.lease !== null && state.lease.owner !== owner && Date.parse(state.lease.expires_at) > now.getTime()
  );
}

/**
 * Takes the lease on `state` in place when it is free, expired or ours.
 * Returns false (and changes nothing) when the request is finished or another
 * driver holds it. The caller persists with compare-and-swap, so of two
 * drivers taking an expired lease at once exactly one wins.
 */
export function takeLease(state: RequestState, owner: string, now: Date, leaseMs: number): boolean {
  if (isTerminal(state.status) || leaseHeldByOther(state, owner, now)) return false;
  state.lease = { owner, expires_at: new Date(now.getTime() + leaseMs).toISOString() };
  if (state.status === 'INIT') state.status = 'RUNNING';
  state.runs += 1;
  state.updated_at = now.toISOString();
  return true;
}
