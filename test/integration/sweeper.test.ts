import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { indexKeys, requestKeys } from '../../common/keys.js';
import { createState, readState } from '../../common/state/state-store.js';
import { sweep } from '../../functions/sweeper/sweep.js';
import { type Harness, makeHarness, silentLogger } from '../helpers/orchestrator-harness.js';
import { makeState } from '../helpers/state.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

const NOW = new Date('2026-11-25T12:00:00.000Z');

async function seed(id: string, edit: (s: ReturnType<typeof makeState>) => void) {
  const state = makeState();
  state.request_id = id;
  edit(state);
  await createState(h.store, state);
  await h.store.put(indexKeys.active(id), '');
}

describe('sweeper', () => {
  it('resumes dead drivers, expires stale requests, cleans finished ones, leaves live ones alone', async () => {
    await seed('dead-driver', (s) => {
      s.lease = { owner: 'gone', expires_at: '2026-11-25T11:00:00.000Z' };
    });
    await seed('no-lease', (s) => {
      s.lease = null;
    });
    await seed('live', (s) => {
      s.lease = { owner: 'alive', expires_at: '2026-11-25T12:00:30.000Z' };
    });
    await seed('too-old', (s) => {
      s.lease = null;
      s.expires_at = '2026-11-25T11:59:00.000Z';
    });
    await seed('done', (s) => {
      s.status = 'SUCCEEDED';
      s.lease = null;
    });
    const resumed: string[] = [];
    const report = await sweep({
      store: h.store,
      logger: silentLogger,
      now: () => NOW,
      graceMs: 1000,
      resume: async (id) => {
        resumed.push(id);
      },
    });
    expect(report.checked).toBe(5);
    expect(resumed.sort()).toEqual(['dead-driver', 'no-lease']);
    expect(report.expired).toEqual(['too-old']);
    expect(report.cleaned).toEqual(['done']);
    expect((await readState(h.store, 'too-old')).state).toMatchObject({
      status: 'EXPIRED',
      error: { code: 'REQUEST_EXPIRED' },
    });
    expect(await h.store.head(indexKeys.active('too-old'))).toBeUndefined();
    expect(await h.store.head(indexKeys.active('done'))).toBeUndefined();
    expect(await h.store.head(indexKeys.active('live'))).toBeDefined();
    expect((await readState(h.store, 'live')).state.status).toBe('RUNNING');
    expect(await h.store.head(requestKeys('dead-driver').state)).toBeDefined();
  });

  it('leaves a request waiting out the backoff of its source copy until retry_at, then resumes it', async () => {
    const waiting = (retryAt: string) => (s: ReturnType<typeof makeState>) => {
      s.status = 'INIT';
      s.lease = null;
      s.stages = {};
      s.tasks['copy-source'] = {
        status: 'PENDING',
        attempts: 1,
        retry_at: retryAt,
        error: { code: 'SOURCE_UNREACHABLE', message: 'could not fetch 127.0.0.1:9', retryable: true },
      };
    };
    await seed('backing-off', waiting('2026-11-25T12:05:00.000Z'));
    await seed('backoff-over', waiting('2026-11-25T11:59:59.000Z'));
    const resumed: string[] = [];
    const deps = {
      store: h.store,
      logger: silentLogger,
      graceMs: 1000,
      resume: async (id: string) => {
        resumed.push(id);
      },
    };
    await sweep({ ...deps, now: () => NOW });
    expect(resumed).toEqual(['backoff-over']);
    await sweep({ ...deps, now: () => new Date('2026-11-25T12:05:00.001Z') });
    expect(resumed.sort()).toEqual(['backing-off', 'backoff-over', 'backoff-over']);
  });
});
