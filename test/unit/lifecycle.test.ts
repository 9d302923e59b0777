import { describe, expect, it } from 'vitest';
import { FINAL_STATUSES, type FinalStatus, RequestStatus } from '../../common/contracts/request.js';
import {
  finishRequest,
  isTerminal,
  type LeaseState,
  leaseHeldByOther,
  leaseState,
  markRunning,
  ownsLease,
  renewLease,
  takeLease,
} from '../../common/state/lifecycle.js';
import { InvalidTransitionError } from '../../common/state/transitions.js';
import { makeState, T0 } from '../helpers/state.js';

const NOW = new Date('2026-11-25T10:00:30.000Z');
const inS = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();
const withLease = (expiresInS: number | null, owner = 'test') => ({
  ...makeState(),
  lease: expiresInS === null ? null : { owner, expires_at: inS(expiresInS) },
});

describe('isTerminal: the final statuses, from one list', () => {
  const cases: Array<[RequestStatus, boolean]> = [
    ['INIT', false],
    ['RUNNING', false],
    ['SUCCEEDED', true],
    ['FAILED', true],
    ['CANCELLED', true],
    ['EXPIRED', true],
  ];
  it.each(cases)('%s → %s', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });

  it('covers every status of the contract, and the final ones are exactly FINAL_STATUSES', () => {
    expect(cases.map(([s]) => s)).toEqual(RequestStatus.options);
    expect(RequestStatus.options.filter(isTerminal)).toEqual([...FINAL_STATUSES]);
  });
});

describe('leaseState at a given time', () => {
  const cases: Array<[string, number | null, number, LeaseState]> = [
    ['no lease', null, 0, 'none'],
    ['no lease, with a grace', null, 60_000, 'none'],
    ['expires later', 10, 0, 'live'],
    ['expires now', 0, 0, 'expired'],
    ['expired a second ago', -1, 0, 'expired'],
    ['expired a second ago, within a 5 s grace', -1, 5_000, 'live'],
    ['expired 5 s ago, a 5 s grace ends now', -5, 5_000, 'expired'],
    ['expired 10 s ago, past a 5 s grace', -10, 5_000, 'expired'],
    ['expires later, with a grace', 10, 5_000, 'live'],
  ];
  it.each(cases)('%s', (_, expiresInS, graceMs, expected) => {
    expect(leaseState(withLease(expiresInS), NOW, graceMs)).toBe(expected);
  });

  it('held by another: only a live lease under another name', () => {
    expect(leaseHeldByOther(withLease(10, 'other'), 'test', NOW)).toBe(true);
    expect(leaseHeldByOther(withLease(10, 'test'), 'test', NOW)).toBe(false);
    expect(leaseHeldByOther(withLease(-1, 'other'), 'test', NOW)).toBe(false);
    expect(leaseHeldByOther(withLease(null), 'test', NOW)).toBe(false);
  });

  it('owned: our name on the lease of an unfinished request, expired or not', () => {
    expect(ownsLease(withLease(10), 'test')).toBe(true);
    expect(ownsLease(withLease(-10), 'test')).toBe(true);
    expect(ownsLease(withLease(10, 'other'), 'test')).toBe(false);
    expect(ownsLease(withLease(null), 'test')).toBe(false);
    expect(ownsLease({ ...withLease(10), status: 'CANCELLED' }, 'test')).toBe(false);
  });

  it('renewing extends only our own lease', () => {
    const ours = withLease(-10);
    expect(renewLease(ours, 'test', NOW, 60_000)).toBe(true);
    expect(ours.lease).toEqual({ owner: 'test', expires_at: inS(60) });
    const theirs = withLease(10, 'other');
    expect(renewLease(theirs, 'test', NOW, 60_000)).toBe(false);
    expect(theirs.lease).toEqual({ owner: 'other', expires_at: inS(10) });
  });

  it('taking the lease: free, expired or ours, never a live one of another driver or a finished request', () => {
    const free = { ...withLease(null), status: 'INIT' as const, runs: 0 };
    expect(takeLease(free, 'test', NOW, 60_000)).toBe(true);
    // Taking it does not start it: a request is INIT until its source is copied (markRunning).
    expect(free).toMatchObject({ status: 'INIT', runs: 1, lease: { owner: 'test', expires_at: inS(60) } });
    expect(takeLease(withLease(-1, 'other'), 'test', NOW, 60_000)).toBe(true);
    const held = withLease(10, 'other');
    expect(takeLease(held, 'test', NOW, 60_000)).toBe(false);
    expect(held.lease?.owner).toBe('other');
    expect(takeLease({ ...withLease(null), status: 'FAILED' }, 'test', NOW, 60_000)).toBe(false);
  });
});

describe('markRunning: a request runs once its source is in place', () => {
  it('INIT → RUNNING; RUNNING stays; a final status is never left', () => {
    const init = { ...withLease(10), status: 'INIT' as const };
    markRunning(init);
    expect(init.status).toBe('RUNNING');
    markRunning(init);
    expect(init.status).toBe('RUNNING');
    const done = { ...withLease(null), status: 'CANCELLED' as const };
    markRunning(done);
    expect(done.status).toBe('CANCELLED');
  });
});

describe('finishRequest: one way to end a request, EXPIRED included', () => {
  const error = { code: 'X', message: 'why' };
  const moves: Array<['INIT' | 'RUNNING', FinalStatus]> = [
    ['RUNNING', 'SUCCEEDED'],
    ['RUNNING', 'FAILED'],
    ['RUNNING', 'CANCELLED'],
    ['RUNNING', 'EXPIRED'],
    ['INIT', 'FAILED'],
    ['INIT', 'CANCELLED'],
    ['INIT', 'EXPIRED'],
  ];
  it.each(moves)('%s → %s: status, error and time set, lease freed, nothing else touched', (from, to) => {
    const state = { ...withLease(10), status: from };
    const tasks = state.tasks;
    const before = structuredClone(state);
    finishRequest(state, to, error, inS(1));
    expect(state).toEqual({ ...before, status: to, error, updated_at: inS(1), lease: null });
    expect(state.tasks).toBe(tasks);
  });

  it('INIT cannot succeed: a request succeeds only after it ran', () => {
    expect(() => finishRequest({ ...withLease(10), status: 'INIT' }, 'SUCCEEDED', null, inS(1))).toThrow(
      InvalidTransitionError,
    );
  });

  const fromFinal = FINAL_STATUSES.flatMap((from) => FINAL_STATUSES.map((to) => [from, to] as const));
  it.each(fromFinal)('refuses %s → %s and changes nothing', (from, to) => {
    const state = { ...withLease(null), status: from, updated_at: T0 };
    const before = structuredClone(state);
    expect(() => finishRequest(state, to, error, inS(1))).toThrow(InvalidTransitionError);
    expect(state).toEqual(before);
  });
});
