/**
 * Hostile inputs through the real gateway, the real orchestrator and the real
 * extract-audio (the later stages are fakes: no case gets that far except the
 * one valid input). Every case must
 *   - be answered with a 4xx and a stable error code,
 *   - write nothing outside its own request prefix (requests/<id>/… and its
 *     index/ entries; nothing at all when refused before the request exists),
 *   - read no file outside the bucket: canary files next to the bucket (one a
 *     real video, so a successful read would show as a success) keep their
 *     access time, and their content appears in no answer and no object.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_STAGES } from '../../common/contracts/pipeline.js';
import { indexKeys, requestKeys, videoIndexKeys } from '../../common/keys.js';
import {
  allCases,
  answerAllowed,
  type Ctx,
  endlessHeaderMp4,
  longAudioShortHeaderMkv,
  manyPacketsMkv,
  noiseFile,
  oversizedFrameMkv,
  pngFile,
  source,
  submit,
  thousandFpsMkv,
  VALID,
} from '../helpers/hostile-inputs.js';
import {
  audioOnlyFile,
  concatList,
  hlsPlaylist,
  oversizedVideo,
  textAsMp4,
  truncatedMp4,
  videoWithoutAudio,
  zeroByteFile,
} from '../helpers/media.js';
import { type Stack, startStack, waitFor } from '../helpers/stack-harness.js';

const TOKEN = `canary-${createHash('sha256').update('hostile').digest('hex').slice(0, 16)}`;
const LONG_AGO = new Date('2001-01-01T00:00:00Z');

let stack: Stack;
let allowed: Server; // on SOURCE_ALLOWED_HOSTS: serves redirects and odd answers
let forbidden: Server; // loopback on a port that is NOT allowed: must never be reached
let forbiddenHits = 0;
/** Filled in by beforeAll. */
const ctx: Ctx = {
  allowedPort: 0,
  forbiddenPort: 0,
  deadPort: 0,
  canaries: { video: '', text: '' },
  video: Buffer.alloc(0),
};
const allowedHits = new Map<string, number>();
const valid: { id?: string } = {};

beforeAll(async () => {
  forbidden = createServer((_req, res) => {
    forbiddenHits += 1;
    res.end(TOKEN);
  });
  forbidden.listen(0, '127.0.0.1');
  await once(forbidden, 'listening');
  ctx.forbiddenPort = (forbidden.address() as AddressInfo).port;
  allowed = createServer((req, res) => {
    const url = req.url ?? '/';
    allowedHits.set(url, (allowedHits.get(url) ?? 0) + 1);
    return answerAllowed(ctx, url, res);
  });
  allowed.listen(0, '127.0.0.1');
  await once(allowed, 'listening');
  ctx.allowedPort = (allowed.address() as AddressInfo).port;
  // A port that was free a moment ago: nothing listens there (connection refused).
  const dead = createServer().listen(0, '127.0.0.1');
  await once(dead, 'listening');
  ctx.deadPort = (dead.address() as AddressInfo).port;
  await new Promise((r) => dead.close(r));
  ctx.video = readFileSync(await videoWithoutAudio());

  stack = await startStack({
    only: ['orchestrator', 'sweeper', ...FUNCTION_STAGES],
    fakeStages: FUNCTION_STAGES.filter((s) => s !== 'extract-audio'),
    env: {
      SOURCE_ALLOWED_HOSTS: `127.0.0.1:${ctx.allowedPort},127.0.0.1:${ctx.deadPort}`,
      CALLBACK_SIGNING_KEY: 'hostile-suite-signing-key',
      MAX_SOURCE_BYTES: String(1024 * 1024),
      SOURCE_TIMEOUT_S: '10',
      // Lowered so the source cases show retries and the lease in seconds: 2 attempts 0.2 s apart,
      // a 2 s lease the sweeper takes over at once when it lapses.
      SOURCE_ATTEMPTS: '2',
      SOURCE_BACKOFF_MS: '200',
      LEASE_S: '2',
      SWEEP_GRACE_S: '0',
    },
  });

  // Canaries next to the bucket, one of them a real (valid) video.
  const outside = join(stack.dir, 'outside');
  mkdirSync(outside);
  ctx.canaries = { video: join(outside, 'secret.mp4'), text: join(outside, 'passwd') };
  await copyFile(await videoWithoutAudio(), ctx.canaries.video);
  writeFileSync(ctx.canaries.text, `root:x:0:0:${TOKEN}\n`);

  const files = join(stack.dir, 'files');
  mkdirSync(files);
  const uploads: Record<string, string> = {
    'valid-noaudio.mp4': await videoWithoutAudio(),
    'zero.mp4': await zeroByteFile(files),
    'truncated.mp4': await truncatedMp4(files, 'default'),
    'truncated-faststart.mp4': await truncatedMp4(files, 'faststart'),
    'notes.mp4': await textAsMp4(files),
    'noise.mp4': noiseFile(files),
    'image.mp4': await pngFile(files),
    'audio-only.m4a': await audioOnlyFile(),
    'hls-passwd.mp4': await hlsPlaylist(files, 'file:///etc/passwd', 'hls-passwd.mp4'),
    'hls-canary.mp4': await hlsPlaylist(files, ctx.canaries.video, 'hls-canary.mp4'),
    'hls-metadata.mp4': await hlsPlaylist(files, 'http://169.254.169.254/latest/meta-data/', 'hls-meta.mp4'),
    'concat-canary.mp4': await concatList(files, ctx.canaries.video, 'concat-canary.mp4'),
    'wide.mkv': await oversizedVideo(),
    'endless.mp4': await endlessHeaderMp4(files),
    'fast.mkv': await thousandFpsMkv(files),
    'long-audio.mkv': await longAudioShortHeaderMkv(files),
    'understated.mkv': await manyPacketsMkv(files, 'understated.mkv', 30, 2),
    'big-frame.mkv': await oversizedFrameMkv(files, 'first'),
  };
  for (const [name, path] of Object.entries(uploads))
    await stack.store.put(`uploads/${name}`, readFileSync(path));
  // Any read from now on moves the access time forward (relatime: atime older than mtime).
  for (const path of Object.values(ctx.canaries)) utimesSync(path, LONG_AGO, statSync(path).mtime);
});

afterAll(async () => {
  await stack?.close();
  allowed?.close();
  forbidden?.close();
});

interface ErrorAnswer {
  error?: { code?: string; details?: { issues?: Array<{ path?: unknown[] }> } };
}

/** The top-level fields a validation error names. */
function issueFields(body: ErrorAnswer | undefined): unknown[] {
  return (body?.error?.details?.issues ?? []).map((issue) => issue.path?.[0]);
}

/** Keys added, changed or removed between two listings. */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

/**
 * Whether a changed key is the request's own: under its prefix, its index
 * markers, or in the shared results its state.json names: a results directory
 * of a task it ran, or the source its copy-source task put where its content
 * names it (another request on the same video would reuse them).
 */
async function ownedBy(key: string, id: string | undefined): Promise<boolean> {
  if (id === undefined) return false;
  if (key.startsWith(requestKeys(id).prefix) || key === indexKeys.request(id) || key === indexKeys.active(id))
    return true;
  if (!key.startsWith('results/')) return false;
  const { tasks } = await stack
    .state(id)
    .catch(() => ({ tasks: {} as Record<string, { manifest?: string }> }));
  const dirs = Object.values(tasks).flatMap((t) =>
    t.manifest ? [t.manifest.replace(/manifest\.json$/, '')] : [],
  );
  const copy = await stack.store
    .getJson<{ output: { source_key: string } }>(requestKeys(id).localManifest('copy-source'))
    .catch(() => undefined);
  if (copy) dirs.push(copy.value.output.source_key);
  return dirs.some((dir) => key.startsWith(dir));
}

function canaryAccessTimes(): number[] {
  return Object.values(ctx.canaries).map((path) => statSync(path).atimeMs);
}

describe('a valid input the suite builds on', () => {
  it('a video with no audio track is VALID: it succeeds (a silent track stands in), writing only its own prefix and results', async () => {
    const before = await stack.listing();
    const res = await stack.submit<{ status?: string; clips?: number }>(submit(VALID.id, {}));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('SUCCEEDED');
    for (const key of changes(before, await stack.listing())) {
      // Besides its own prefix and results, a request that succeeds writes the video index document of its analysis.
      if (key.startsWith(videoIndexKeys('default').prefix)) {
        expect((await stack.store.getJson<{ request_id: string }>(key)).value.request_id).toBe(VALID.id);
      } else expect(await ownedBy(key, VALID.id), key).toBe(true);
    }
    valid.id = VALID.id;
  });

  it('the same under an Idempotency-Key succeeds once; sent again, it is that request', async () => {
    const headers = { 'idempotency-key': VALID.key };
    const first = await stack.submit<{ status?: string; request_id?: string }>(VALID.body, headers);
    expect(first.body.status).toBe('SUCCEEDED');
    const before = await stack.listing();
    const again = await stack.submit<{ request_id?: string }>(VALID.body, headers);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(changes(before, await stack.listing())).toEqual([]);
  });
});

describe('hostile inputs', () => {
  const cases = allCases();
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('$name → $code', async (c) => {
    const atimes = canaryAccessTimes();
    const before = await stack.listing();
    const res = await stack.submit<ErrorAnswer>(c.body(ctx), c.headers);
    const after = await stack.listing();

    expect({ status: res.status, code: res.body?.error?.code }).toEqual({
      status: c.status ?? 422,
      code: c.code,
    });
    if (c.field) expect(issueFields(res.body)).toContain(c.field);
    const changed = changes(before, after);
    for (const key of changed) expect({ key, owned: await ownedBy(key, c.id) }).toEqual({ key, owned: true });
    if (c.id && after.has(requestKeys(c.id).state)) {
      // The request exists: it must be FAILED with this very cause, and no longer active.
      const state = await stack.state(c.id);
      expect({ status: state.status, code: state.error?.code, lease: state.lease }).toEqual({
        status: 'FAILED',
        code: c.code,
        lease: null,
      });
      expect(after.has(indexKeys.active(c.id))).toBe(false);
      // A copy of the source that failed is not left behind.
      const input = requestKeys(c.id).input('');
      if (state.tasks['copy-source']?.status !== 'SUCCEEDED')
        expect([...after.keys()].filter((k) => k.startsWith(input))).toEqual([]);
      for (const key of changed) expect((await stack.store.getBytes(key)).includes(TOKEN)).toBe(false);
    }
    expect(JSON.stringify(res.body ?? '')).not.toContain(TOKEN);
    expect(canaryAccessTimes()).toEqual(atimes);
  });

  it('never reached the loopback port that is not allowed, nor read the canaries', () => {
    expect(forbiddenHits).toBe(0);
    expect(canaryAccessTimes()).toEqual(Object.values(ctx.canaries).map(() => LONG_AGO.getTime()));
  });

  it("reads another request's files as a video only to refuse them, leaking nothing", async () => {
    const atimes = canaryAccessTimes();
    const res = await stack.submit<{ error?: { code?: string } }>(
      source('h-other-state', `store://${requestKeys(valid.id ?? VALID.id).state}`),
    );
    expect(res.status).toBe(422);
    expect(res.body.error?.code).toBe('UNSUPPORTED_FORMAT');
    expect(JSON.stringify(res.body)).not.toContain('"schema_version"');
    expect(canaryAccessTimes()).toEqual(atimes);
  });
});

describe('sources that fail in passing, or crawl', () => {
  async function sweepOnce(): Promise<{ resumed: string[] }> {
    const res = await stack.call('/function/sweeper', { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as { resumed: string[] };
  }

  it('an unreachable source is tried SOURCE_ATTEMPTS times, backing off, then FAILED with the cause', async () => {
    const id = 'h-src-unreachable';
    const before = await stack.listing();
    const res = await stack.submit(source(id, `http://127.0.0.1:${ctx.deadPort}/video.mp4`));
    expect(res.status).toBe(202); // accepted: it waits to try again
    expect(await stack.state(id)).toMatchObject({
      status: 'INIT',
      error: null,
      lease: null,
      tasks: { 'copy-source': { status: 'PENDING', attempts: 1, error: { code: 'SOURCE_UNREACHABLE' } } },
    });
    const failed = await waitFor(
      async () => {
        await sweepOnce();
        const state = await stack.state(id);
        return state.status === 'FAILED' && state;
      },
      'the request to fail',
      15_000,
    );
    expect(failed).toMatchObject({
      error: { code: 'SOURCE_UNREACHABLE', details: { attempts: 2 } },
      lease: null,
      tasks: { 'copy-source': { status: 'FAILED', attempts: 2 } },
    });
    const after = await stack.listing();
    expect(after.has(indexKeys.active(id))).toBe(false);
    for (const key of changes(before, after))
      expect({ key, owned: await ownedBy(key, id) }).toEqual({ key, owned: true });
    expect([...after.keys()].filter((k) => k.startsWith(requestKeys(id).input('')))).toEqual([]);
  });

  it('a slow source keeps its lease while it is copied: the sweeper never takes the request over', async () => {
    const id = 'h-src-slow';
    const answer = stack.submit<{ status?: string }>(
      source(id, `http://127.0.0.1:${ctx.allowedPort}/slow.mp4`),
    );
    const resumed: string[] = [];
    let sweeps = 0;
    let settled = false;
    void answer.finally(() => {
      settled = true;
    });
    // The copy takes about 5 s, more than twice the 2 s lease.
    while (!settled) {
      await new Promise((r) => setTimeout(r, 400));
      resumed.push(...(await sweepOnce()).resumed);
      sweeps += 1;
    }
    const res = await answer;
    expect(sweeps).toBeGreaterThanOrEqual(6); // it outlived the lease more than once
    expect(resumed).not.toContain(id);
    expect({ status: res.status, body: res.body.status }).toEqual({ status: 200, body: 'SUCCEEDED' });
    expect(allowedHits.get('/slow.mp4')).toBe(1);
    expect((await stack.state(id)).runs).toBe(1);
  });
});
