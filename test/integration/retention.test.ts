/**
 * Retention: gc deletes only what nothing references (a request's tasks, a
 * copy-source record, a video index document, a running claim) and is old;
 * rm deletes a request's own objects, never results another request uses.
 * Requests run through the orchestrator on the fake stages (real manifests).
 */
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { FinalResult } from '../../common/contracts/final.js';
import type { GcOptions } from '../../common/contracts/retention.js';
import { indexKeys, requestKeys, resultKeys, VIDEO_INDEX_ROOT } from '../../common/keys.js';
import { collectGarbage, type GcDeps } from '../../common/retention/gc.js';
import { removeRequest } from '../../common/retention/remove-request.js';
import { readState } from '../../common/state/state-store.js';
import { callHandler, finalOf, type Harness, makeHarness } from '../helpers/orchestrator-harness.js';

const DAY = 86_400_000;
const submit = (request_id: string, video = 'uploads/video.mp4', query = 'find scenes with cars') => ({
  video_uri: `store://${video}`,
  query,
  profile: 'default' as const,
  request_id,
});

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

async function keys(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const o of h.store.listAll(prefix)) found.push(o.key);
  return found.sort();
}

/** gc as if `daysLater` had passed (every object is then that old), settling at once. */
function gc(
  options: Partial<GcOptions> & { namespace?: string } = {},
  daysLater = 40,
  deps: Partial<GcDeps> = {},
) {
  return collectGarbage(
    { older_than: '30d', dry_run: false, ...options },
    { store: h.store, now: () => new Date(Date.now() + daysLater * DAY), settleMs: 0, ...deps },
  );
}

/** Every key a final.json names in the bucket: what its reader must still find. */
function keysOf(final: FinalResult): string[] {
  return [
    sourceKey(final),
    ...final.clip_list.flatMap((c) => [c.video_key, c.thumbnail_key].filter((k): k is string => !!k)),
  ];
}

/** Nothing references what `id` made: it is rm'ed, and its video taken out of the index. */
async function unreference(id: string) {
  await removeRequest(h.store, id).catch(() => undefined);
  for (const key of await keys(VIDEO_INDEX_ROOT)) await h.store.delete(key);
}

/** A request that has not finished (a copy of a finished one's state, marked RUNNING). */
async function runningRequest(id: string) {
  await h.service().submit(submit('first'), undefined);
  const { state } = await readState(h.store, 'first');
  await h.store.put(requestKeys(id).state, JSON.stringify({ ...state, request_id: id, status: 'RUNNING' }));
}

/** The source's key in the bucket. */
function sourceKey(final: FinalResult): string {
  if (!final.source) throw new Error('final.json names no source');
  return final.source.key;
}

/** An unreferenced result folder of a task that never was (or was forgotten). */
async function orphan(namespace = 'default', digest = 'a'.repeat(64)) {
  const dir = resultKeys(namespace, 'extract-audio', digest);
  await h.store.put(dir.file('audio.wav'), Buffer.alloc(100));
  await h.store.put(dir.manifest, '{}');
  return dir;
}

describe('gc', () => {
  it('keeps every result a request references, and deletes an old unreferenced folder', async () => {
    const final = finalOf(await h.service().submit(submit('first'), undefined));
    const results = await keys('results/');
    const dead = await orphan();

    const report = await gc();
    expect(report.deleted).toMatchObject({ dirs: 1, objects: 2, bytes: 102, keys: [dead.dir] });
    expect(report.kept.referenced).toBeGreaterThan(5);
    expect(await keys('results/')).toEqual(results);
    for (const key of keysOf(final)) expect(await h.store.head(key), key).toBeDefined();
  });

  it('keeps an unreferenced folder written since the cut-off', async () => {
    const dead = await orphan();
    const report = await gc({}, 0);
    expect(report.kept.young).toBe(1);
    expect(report.deleted.dirs).toBe(0);
    expect(await h.store.head(dead.manifest)).toBeDefined();
  });

  it('--dry-run reports what it would delete and deletes nothing', async () => {
    await h.service().submit(submit('first'), undefined);
    await unreference('first');
    const before = await keys('');
    const dry = await gc({ dry_run: true });
    expect(dry.deleted.dirs).toBeGreaterThan(5);
    expect(await keys('')).toEqual(before);
    const real = await gc();
    expect({ ...real.deleted, keys: [] }).toEqual({ ...dry.deleted, keys: [] });
    expect(await keys('results/')).toEqual([]);
  });

  it('keeps a folder a task is running in (a live claim), not one whose claim expired', async () => {
    const live = await orphan('default', 'b'.repeat(64));
    const dead = await orphan('default', 'c'.repeat(64));
    const claim = (days: number) =>
      JSON.stringify({ owner: 'x', expires_at: new Date(Date.now() + days * DAY).toISOString() });
    await h.store.put(live.claim, claim(41)); // still live 40 days on
    await h.store.put(dead.claim, claim(1));
    const report = await gc({}, 40);
    expect(report.kept.claimed).toBe(1);
    expect(await h.store.head(live.manifest)).toBeDefined();
    expect(await keys(dead.prefix)).toEqual([]);
  });

  it('keeps the folders a video index document names, and its source, once no request does', async () => {
    const final = finalOf(await h.service().submit(submit('first'), undefined));
    await removeRequest(h.store, 'first');
    const results = await keys('results/');
    const report = await gc();
    expect(report).toMatchObject({ marked: { requests: 0, documents: 1 }, deleted: { dirs: 0 } });
    expect(await keys('results/')).toEqual(results);
    for (const key of keysOf(final)) expect(await h.store.head(key), key).toBeDefined();
    // Search still answers from it.
    const found = await h.service().search({ search: 'cars', limit: 5 });
    expect(found.matches.length).toBeGreaterThan(0);
  });

  it('a state.json that turns unreadable while gc runs stops it, and every folder stays as it was', async () => {
    await h.service().submit(submit('first'), undefined);
    await unreference('first');
    const before = await keys('');
    await expect(
      gc({}, 40, {
        sleep: async () => {
          await h.store.put(requestKeys('broken').state, 'not json');
        },
      }),
    ).rejects.toMatchObject({ code: 'GC_REFUSED' });
    expect(await keys('')).toEqual([...before, requestKeys('broken').state].sort());
  });

  it('a video index document that cannot be read stops gc, as a state.json does', async () => {
    await h.service().submit(submit('first'), undefined);
    await unreference('first');
    await h.store.put(`${VIDEO_INDEX_ROOT}default/${'e'.repeat(64)}/${'f'.repeat(64)}.json`, '{"trunc');
    const before = await keys('');
    await expect(gc()).rejects.toMatchObject({
      code: 'GC_REFUSED',
      details: { unreadable: [{ code: 'INDEX_DOCUMENT_CORRUPT' }] },
    });
    expect(await keys('')).toEqual(before);
  });

  it('deletes nothing while a state.json cannot be read, unless the sweeper quarantined it', async () => {
    await h.service().submit(submit('first'), undefined);
    await unreference('first');
    await h.store.put(requestKeys('broken').state, '{"schema_version": 1, "trunc');
    const before = await keys('');
    await expect(gc()).rejects.toMatchObject({
      code: 'GC_REFUSED',
      status: 409,
      details: { unreadable: [{ key: requestKeys('broken').state, code: 'STATE_CORRUPT' }] },
    });
    expect(await keys('')).toEqual(before);

    await h.store.put(indexKeys.quarantine('broken'), '{}');
    expect((await gc()).deleted.dirs).toBeGreaterThan(5);
  });

  it('a request that adopts a folder while gc runs keeps it, and its manifest', async () => {
    await h.service().submit(submit('first'), undefined);
    const { state } = await readState(h.store, 'first');
    await unreference('first');
    const results = await keys('results/');
    // While gc waits, a driver records tasks it found before gc hid their manifests.
    const report = await gc({}, 40, {
      sleep: async () => {
        await h.store.put(requestKeys('late').state, JSON.stringify({ ...state, request_id: 'late' }));
      },
    });
    expect(report.deleted.dirs).toBe(1); // only the source, which `late` (no copy-source record) does not name
    expect(report.kept.raced).toBeGreaterThan(5);
    expect(await keys('results/')).toEqual(
      results.filter((k) => !k.startsWith('results/default/copy-source/')),
    );
  });

  it('a request that runs while gc sweeps ends with every result it names in the bucket', async () => {
    await h.service().submit(submit('first'), undefined);
    await unreference('first');
    let second: FinalResult | undefined;
    const report = await gc({}, 40, {
      sleep: async () => {
        second = finalOf(await h.service().submit(submit('second'), undefined));
      },
    });
    expect(second?.status).toBe('SUCCEEDED');
    expect(report.kept.raced + report.kept.referenced).toBeGreaterThan(5);
    for (const key of keysOf(second!)) expect(await h.store.head(key), key).toBeDefined();
    expect(finalOf(await h.service().submit(submit('third'), undefined)).status).toBe('SUCCEEDED');
    expect(h.gateway.invokedFor('third')).toEqual(new Map());
  });

  it('leaves a folder written to while gc ran (a stage running its task again), named by nothing yet', async () => {
    const dead = await orphan();
    const report = await gc({}, 40, {
      sleep: async () => {
        await h.store.put(dead.file('audio.wav'), Buffer.alloc(10));
      },
    });
    expect(report.kept.raced).toBe(1);
    expect(report.deleted.dirs).toBe(0);
    // Kept as it was, manifest and all (gc hid it while it looked).
    expect(await keys(dead.prefix)).toEqual([dead.file('audio.wav'), dead.manifest]);
  });

  it('leaves a folder a task claimed while gc ran, and leaves no claim of its own behind', async () => {
    const taken = await orphan('default', 'b'.repeat(64));
    const free = await orphan('default', 'c'.repeat(64));
    const report = await gc({}, 40, {
      sleep: async () => {
        const expires_at = new Date(Date.now() + 41 * DAY).toISOString();
        await h.store.put(taken.claim, JSON.stringify({ owner: 'a stage', expires_at }));
      },
    });
    expect(report.deleted.keys).toEqual([free.dir]);
    expect(await keys(taken.prefix)).toEqual([taken.file('audio.wav'), taken.claim, taken.manifest].sort());
    expect(await keys(free.prefix)).toEqual([]);
  });

  it('sweeps only its namespace when given one', async () => {
    const mine = await orphan('acme');
    const theirs = await orphan('other');
    const report = await gc({ namespace: 'acme' });
    expect(report.deleted.keys).toEqual([mine.dir]);
    expect(await h.store.head(theirs.manifest)).toBeDefined();
  });
});

describe('rm', () => {
  it("deletes the request's own objects and keeps the results another request uses", async () => {
    const first = finalOf(await h.service().submit(submit('first'), undefined));
    const second = finalOf(
      await h.service().submit(submit('second', undefined, 'what about the budget'), undefined),
    );
    const results = await keys('results/');
    const report = await removeRequest(h.store, 'first');
    expect(report.deleted.objects).toBeGreaterThan(2);
    expect(await keys(requestKeys('first').prefix)).toEqual([]);
    expect(await h.store.head(indexKeys.request('first'))).toBeUndefined();
    expect(await keys('results/')).toEqual(results);
    // gc afterwards: second still names every shared result.
    expect((await gc()).deleted.dirs).toBe(0);
    for (const key of [...keysOf(first), ...keysOf(second)])
      expect(await h.store.head(key), key).toBeDefined();
    await expect(readState(h.store, 'first')).rejects.toMatchObject({ code: 'REQUEST_NOT_FOUND' });
  });

  it('refuses a request that has not finished, and one that does not exist', async () => {
    await runningRequest('running');
    await expect(removeRequest(h.store, 'running')).rejects.toMatchObject({
      code: 'REQUEST_RUNNING',
      status: 409,
    });
    expect(await h.store.head(requestKeys('running').state)).toBeDefined();
    await expect(removeRequest(h.store, 'nobody')).rejects.toMatchObject({
      code: 'REQUEST_NOT_FOUND',
      status: 404,
    });
  });
});

describe('the {"gc"} and {"delete"} control calls', () => {
  const call = (body: unknown) => callHandler(h.service())(body);

  it('answer 200 with their reports', async () => {
    await h.service().submit(submit('first'), undefined);
    const gcAnswer = await call({ gc: { dry_run: true } });
    expect(gcAnswer).toMatchObject({
      status: 200,
      body: { dry_run: true, older_than: '30d', deleted: { dirs: 0 } },
    });
    const deleted = await call({ delete: 'first' });
    expect(deleted).toMatchObject({ status: 200, body: { request_id: 'first' } });
  });

  it('refuse bad bodies, unknown and running requests, and unreadable states with stable 4xx codes', async () => {
    await expect(call({ gc: { older_than: 'soon' } })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      status: 422,
    });
    await expect(call({ gc: {}, dry_run: true })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      status: 422,
    });
    await expect(call({ delete: '../x' })).rejects.toMatchObject({ code: 'INVALID_REQUEST', status: 422 });
    await expect(call({ delete: 'nobody' })).rejects.toMatchObject({
      code: 'REQUEST_NOT_FOUND',
      status: 404,
    });
    await runningRequest('running');
    await expect(call({ delete: 'running' })).rejects.toMatchObject({ code: 'REQUEST_RUNNING', status: 409 });
    await h.store.put(requestKeys('broken').state, 'not json');
    await expect(call({ gc: {} })).rejects.toMatchObject({ code: 'GC_REFUSED', status: 409 });
  });
});

describe('clipseek gc and rm', () => {
  async function cli(...args: string[]) {
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    let errText = '';
    out.on('data', (b: Buffer) => {
      text += b.toString();
    });
    err.on('data', (b: Buffer) => {
      errText += b.toString();
    });
    const io = { out, err, env: { CLIPSEEK_GC_SETTLE_MS: '0' }, cwd: h.dir };
    const code = await main([...args, '--storage', pathToFileURL(`${h.dir}/bucket`).href], io);
    return { code, text, err: errText };
  }

  it('gc --dry-run --json reports and deletes nothing; gc deletes; progress on stderr', async () => {
    await h.service().submit(submit('first'), undefined);
    expect((await cli('rm', 'first', '--json')).code).toBe(0);
    await unreference('first');
    const before = await keys('');
    // Everything was written just now: with --older-than 1s, a second later it is old.
    await new Promise((r) => setTimeout(r, 1100));
    const dry = await cli('gc', '--older-than', '1s', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.text)).toMatchObject({ dry_run: true, older_than: '1s' });
    expect(JSON.parse(dry.text).deleted.dirs).toBeGreaterThan(5);
    expect(await keys('')).toEqual(before);
    const real = await cli('gc', '--older-than', '1s');
    expect(real.code).toBe(0);
    expect(real.text).toMatch(/^deleted \d+ result folder\(s\)/);
    expect(real.err).toContain('gc: reading request states');
    expect(await keys('results/')).toEqual([]);
  });

  it('refuses a bad --older-than (usage), and rm of a running request (REQUEST_RUNNING)', async () => {
    expect((await cli('gc', '--older-than', 'soon')).code).toBe(2);
    await runningRequest('running');
    const rm = await cli('rm', 'running', '--json');
    expect(rm.code).toBe(1);
    expect(JSON.parse(rm.text)).toMatchObject({ error: { code: 'REQUEST_RUNNING' } });
  });
});
