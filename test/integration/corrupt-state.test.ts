/**
 * One request whose state.json is damaged (truncated, or replaced by `{}`)
 * must not block the others: the sweeper quarantines it and sweeps the rest,
 * status/resume/cancel answer STATE_CORRUPT, and `clipseek ls` lists it as
 * CORRUPT beside the healthy ones.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lsCommand } from '../../cli/commands/ls.js';
import { StateCorruptError } from '../../common/errors.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import { errorAnswer } from '../../common/openfaas/error-response.js';
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

/** A request as the orchestrator leaves it: state.json, its ls marker, its sweeper marker. */
async function seed(id: string, edit: (s: ReturnType<typeof makeState>) => void = () => {}) {
  const state = makeState();
  state.request_id = id;
  state.lease = { owner: 'gone', expires_at: '2026-11-25T11:00:00.000Z' };
  edit(state);
  await createState(h.store, state);
  await h.store.put(
    indexKeys.request(id),
    JSON.stringify({ request_id: id, created_at: state.created_at, query: state.request.query }),
  );
  await h.store.put(indexKeys.active(id), '');
  return state;
}

/** Truncated mid-write, and overwritten with `{}`: the two damages seen. */
async function seedCorrupt(): Promise<Map<string, Buffer>> {
  await seed('truncated');
  const text = (await h.store.getBytes(requestKeys('truncated').state)).toString();
  await h.store.put(requestKeys('truncated').state, text.slice(0, Math.floor(text.length / 2)));
  await seed('emptied');
  await h.store.put(requestKeys('emptied').state, '{}');
  const bytes = new Map<string, Buffer>();
  for (const id of ['truncated', 'emptied']) bytes.set(id, await h.store.getBytes(requestKeys(id).state));
  return bytes;
}

function sweepDeps(resumed: string[], unreachable: string[] = []) {
  return {
    store: h.store,
    logger: silentLogger,
    now: () => NOW,
    graceMs: 1000,
    resume: async (id: string) => {
      if (unreachable.includes(id)) throw new Error('connect ECONNREFUSED');
      resumed.push(id);
    },
  };
}

describe('a corrupt state.json', () => {
  it('is read as STATE_CORRUPT, a non-retryable 409, whatever the damage', async () => {
    await seedCorrupt();
    for (const id of ['truncated', 'emptied']) {
      const err = await readState(h.store, id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateCorruptError);
      expect(err).toMatchObject({ code: 'STATE_CORRUPT', status: 409, retryable: false });
    }
  });

  it('does not stop the sweeper: the healthy requests are swept, the corrupt ones quarantined once', async () => {
    await seed('dead-driver');
    await seed('also-dead');
    await seed('gateway-down');
    const bytes = await seedCorrupt();
    const resumed: string[] = [];
    const report = await sweep(sweepDeps(resumed, ['gateway-down']));
    expect(report.checked).toBe(5);
    expect(resumed.sort()).toEqual(['also-dead', 'dead-driver']);
    expect(report.quarantined.sort()).toEqual(['emptied', 'truncated']);
    expect(report.failed).toEqual([
      expect.objectContaining({ request_id: 'gateway-down', code: 'INTERNAL' }),
    ]);
    for (const id of ['truncated', 'emptied']) {
      expect(await h.store.head(indexKeys.active(id))).toBeUndefined();
      const { value } = await h.store.getJson(indexKeys.quarantine(id));
      expect(value).toMatchObject({
        request_id: id,
        code: 'STATE_CORRUPT',
        state_key: requestKeys(id).state,
      });
      // The damaged bytes stay for an operator.
      expect(await h.store.getBytes(requestKeys(id).state)).toEqual(bytes.get(id));
    }
    // Quarantined requests are not retried by every sweep.
    const again = await sweep(sweepDeps([]));
    expect(again.checked).toBe(3);
    expect(again.quarantined).toEqual([]);
  });

  it('answers status, resume, cancel and a repeated submit with STATE_CORRUPT, changing nothing', async () => {
    const bytes = await seedCorrupt();
    const service = h.service();
    for (const id of ['truncated', 'emptied']) {
      const calls = [
        () => service.status(id),
        () => service.resume(id),
        () => service.cancel(id),
        () =>
          service.submit(
            { video_uri: 'store://uploads/video.mp4', query: 'cars', profile: 'default', request_id: id },
            undefined,
          ),
      ];
      for (const call of calls) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StateCorruptError);
        expect(errorAnswer(err)).toMatchObject({
          status: 409,
          headers: { 'X-Clipseek-Retryable': 'false' },
          body: { error: { code: 'STATE_CORRUPT', details: { request_id: id } } },
        });
      }
      expect(await h.store.getBytes(requestKeys(id).state)).toEqual(bytes.get(id));
    }
  });

  it('is listed by `clipseek ls` as CORRUPT beside the others, and ls succeeds', async () => {
    await seed('healthy', (s) => {
      s.status = 'SUCCEEDED';
      s.lease = null;
      s.clips = 3;
    });
    await seedCorrupt();
    // A damaged ls marker does not end the listing either.
    await seed('bad-marker');
    await h.store.put(indexKeys.request('bad-marker'), '{"request_id":');

    const ls = async (...args: string[]) => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      const io = { out, err: new PassThrough(), env: {}, cwd: h.dir };
      const code = await lsCommand.run(['--storage', h.store.url, ...args], io);
      return { code, text };
    };
    const json = await ls('--json');
    expect(json.code).toBe(0);
    const rows = (
      JSON.parse(json.text) as { requests: Array<{ request_id: string; status: string; error?: string }> }
    ).requests;
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.get('healthy')).toMatchObject({ status: 'SUCCEEDED' });
    expect(byId.get('bad-marker')).toMatchObject({ status: 'RUNNING' });
    for (const id of ['truncated', 'emptied']) {
      expect(byId.get(id)).toMatchObject({ status: 'CORRUPT', error: 'STATE_CORRUPT' });
    }
    const table = await ls();
    expect(table.code).toBe(0);
    expect(table.text).toMatch(/^truncated +CORRUPT /m);
    expect(table.text).toMatch(/^healthy +SUCCEEDED /m);
  });
});
