import { describe, expect, it } from 'vitest';
import { RequestState } from '../../common/contracts/state.js';
import { resolveProfile } from '../../common/profiles.js';
import { initialTasks } from '../../functions/orchestrator/decide.js';
import { newRequestState } from '../../functions/orchestrator/request-state.js';

describe('newRequestState: the state.json of a request just accepted', () => {
  const state = newRequestState({
    id: 'r_new00001',
    namespace: 'tenant-a',
    profile: 'fast',
    params: resolveProfile('fast'),
    request: { video_uri: 'store://uploads/a.mp4', query: 'cars', digest: 'd'.repeat(64) },
    owner: 'orchestrator-1',
    at: new Date('2026-11-25T10:00:00.000Z'),
    ttlMs: 3_600_000,
    leaseMs: 30_000,
  });

  it('is valid state.json, INIT, not yet run, every request-level task pending', () => {
    expect(RequestState.parse(state)).toEqual(state);
    expect(state).toMatchObject({
      status: 'INIT',
      namespace: 'tenant-a',
      runs: 0,
      clips: null,
      error: null,
      cancel_requested: false,
    });
    expect(state.tasks).toEqual(initialTasks());
    expect(state.tasks['copy-source']).toEqual({ status: 'PENDING', attempts: 0 }); // not copied yet
  });

  it('expires after the TTL and holds the lease for the owner from the start', () => {
    expect(state.created_at).toBe('2026-11-25T10:00:00.000Z');
    expect(state.updated_at).toBe(state.created_at);
    expect(state.expires_at).toBe('2026-11-25T11:00:00.000Z');
    expect(state.lease).toEqual({ owner: 'orchestrator-1', expires_at: '2026-11-25T10:00:30.000Z' });
  });
});
