import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FinalResult } from '../../common/contracts/final.js';
import { RequestState } from '../../common/contracts/state.js';
import { indexKeys, requestKeys, resultKeys } from '../../common/keys.js';
import { loadManifest } from '../../common/manifests.js';
import { defineStage } from '../../common/stage.js';
import { readState, updateState } from '../../common/state/state-store.js';
import { toHttp } from '../../functions/orchestrator/respond.js';
import type { Outcome } from '../../functions/orchestrator/service.js';
import { finalOf, type Harness, makeHarness, waitFor } from '../helpers/orchestrator-harness.js';

const submit = {
  video_uri: 'store://uploads/video.mp4',
  query: 'find scenes with cars',
  profile: 'default' as const,
};
const ALL_TASKS = 3 + 3 * 4;

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

/** What the caller is answered over HTTP (respond.ts): its status and error code. */
function answered(outcome: Outcome) {
  const { status, body } = toHttp(outcome);
  return { status, code: (body as { error?: { code?: string } }).error?.code };
}

async function stateOf(id: string) {
  return (await readState(h.store, id)).state;
}

describe('orchestrator service over a real folder store', () => {
  it('runs the whole DAG once and writes state.json and final.json that match their schemas', async () => {
    const result = finalOf(await h.service().submit(submit, undefined));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.clips).toBe(3);
    expect(result.matches.map((m) => m.clips)).toEqual([[1]]);
    expect(FinalResult.parse((await h.store.getJson(requestKeys(result.request_id).final)).value)).toEqual(
      result,
    );
    const state = RequestState.parse(await stateOf(result.request_id));
    expect(state.status).toBe('SUCCEEDED');
    expect(state.lease).toBeNull();
    expect(Object.values(state.tasks).every((t) => t.status === 'SUCCEEDED')).toBe(true);
    expect(state.stages['detect-objects']).toMatchObject({ status: 'SUCCEEDED', done: 3, total: 3 });
    expect(h.gateway.invocations.size).toBe(ALL_TASKS);
    expect(h.gateway.repeated()).toEqual([]);
    expect(await h.store.head(indexKeys.active(result.request_id))).toBeUndefined();
    // The source is where its content names it; the request's staging copy is gone.
    expect(result.source?.key).toMatch(/^results\/default\/copy-source\/[0-9a-f]{64}\/source\.mp4$/);
    expect(await h.store.head(result.source!.key)).toBeDefined();
    expect(await h.store.head(requestKeys(result.request_id).input('source.mp4'))).toBeUndefined();
  });

  it('records the source copy as a task: its manifest names the copy, its exact sha256, size and name', async () => {
    const result = finalOf(await h.service().submit(submit, undefined));
    const bytes = await h.store.getBytes('uploads/video.mp4');
    const keys = requestKeys(result.request_id);
    const manifest = await loadManifest(h.store, 'copy-source', keys.localManifest('copy-source'));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(manifest.output).toEqual({
      source_key: resultKeys('default', 'copy-source', sha256).file('source.mp4'),
      sha256,
      size_bytes: bytes.length,
      name: 'video.mp4',
    });
    expect(await h.store.getBytes(manifest.output.source_key)).toEqual(bytes);
    expect((await stateOf(result.request_id)).tasks['copy-source']).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 1,
      manifest: keys.localManifest('copy-source'),
    });
    expect(result.source?.key).toBe(manifest.output.source_key);
  });

  it('bad input writes nothing at all', async () => {
    const before = await listAll();
    await expect(
      h.service().submit({ ...submit, video_uri: 'file:///etc/passwd' }, undefined),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_SOURCE_SCHEME',
      status: 422,
    });
    await expect(
      h.service().submit({ ...submit, video_uri: 'store://uploads/missing.mp4' }, undefined),
    ).rejects.toMatchObject({
      code: 'SOURCE_NOT_FOUND',
    });
    await expect(
      h.service().submit({ ...submit, overrides: { run: { max_attempts: 1000 } } }, undefined),
    ).rejects.toMatchObject({ code: 'INVALID_OVERRIDES' });
    await expect(
      h.service().submit({ ...submit, video_uri: 'http://169.254.169.254/latest/meta-data' }, undefined),
    ).rejects.toMatchObject({ code: 'SOURCE_REFUSED' });
    expect(await listAll()).toEqual(before);
  });

  it('retries a transient failure and succeeds; records attempts', async () => {
    h.gateway.faults.set('transcode-clip/0001', ['retryable', 'retryable']);
    const result = finalOf(await h.service().submit(submit, undefined));
    expect(result.status).toBe('SUCCEEDED');
    expect(h.gateway.invocations.get('transcode-clip/0001')).toBe(3);
    expect((await stateOf(result.request_id)).tasks['transcode-clip/0001']).toMatchObject({
      attempts: 3,
      status: 'SUCCEEDED',
    });
  });

  it('a stage rejecting its input fails the request at once with that cause', async () => {
    h.gateway.faults.set('extract-audio', ['reject']);
    const result = finalOf(await h.service().submit(submit, undefined));
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'UNREADABLE_MEDIA' });
    expect(h.gateway.invocations.get('extract-audio')).toBe(1);
    expect(h.gateway.invocations.has('segment-speech')).toBe(false);
    expect((await stateOf(result.request_id)).error?.code).toBe('UNREADABLE_MEDIA');
  });

  it('a stage that keeps timing out fails the request after max_attempts, with STAGE_TIMEOUT', async () => {
    h.gateway.faults.set('segment-speech', ['timeout', 'timeout', 'timeout']);
    const result = finalOf(
      await h.service().submit({ ...submit, overrides: { run: { backoff_base_ms: 10 } } }, undefined),
    );
    expect(result.status).toBe('FAILED');
    expect(result.error?.code).toBe('STAGE_TIMEOUT');
    expect(h.gateway.invocations.get('segment-speech')).toBe(3);
  });

  it('tolerated clip failures complete with partial results', async () => {
    h.gateway.faults.set('detect-objects/0001', ['reject']);
    const result = finalOf(
      await h.service().submit({ ...submit, overrides: { run: { tolerated_clip_failures: 1 } } }, undefined),
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.failed_clips).toEqual([
      { clip: 1, error: expect.objectContaining({ code: 'UNREADABLE_MEDIA' }) },
    ]);
    expect(result.matches).toEqual([]);
  });

  it('says how much of the video was analysed: all of it, or all but the clips that failed', async () => {
    const full = finalOf(await h.service().submit(submit, undefined));
    const whole = { duration_s: 30, analysed_s: 30, ratio: 1, unanalysed: [] };
    expect(full.coverage).toEqual(whole);
    expect((await stateOf(full.request_id)).coverage).toEqual(whole);

    // Another video (the same one's results are shared: nothing would run, nothing fail).
    await h.store.put('uploads/other.mp4', Buffer.from('another video'));
    h.gateway.faults.set('transcode-clip/0000', ['reject']);
    const partial = finalOf(
      await h.service().submit(
        {
          ...submit,
          video_uri: 'store://uploads/other.mp4',
          request_id: 'partial',
          overrides: { run: { tolerated_clip_failures: 1 } },
        },
        undefined,
      ),
    );
    const part = { duration_s: 30, analysed_s: 20, ratio: 0.667, unanalysed: [[0, 10]] };
    expect(partial.coverage).toEqual(part);
    expect((await stateOf('partial')).coverage).toEqual(part);
  });

  it('a query only speech could answer, on a video without speech, is answered "cannot be answered"', async () => {
    h.gateway.stages['transcribe-clip'] = defineStage({
      name: 'transcribe-clip',
      run: async (input) => ({ clip: input.clip, engine: 'fake', text: '', words: [], no_speech: true }),
    });
    const result = finalOf(await h.service().submit({ ...submit, query: 'find a box' }, undefined));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.answerable).toBe(false);
    expect(result.matches).toEqual([]);
    expect(result.understood).toMatchObject({
      objects: [],
      speech_only: ['box'],
      suggestions: [{ word: 'box', labels: ['suitcase', 'book'] }],
    });
    expect(result.note).toMatch(/cannot be answered.*"box".*no speech.*suitcase, book/);

    // A query naming something it can see is answerable on the same video, and one on a video with speech too.
    const seen = finalOf(await h.service().submit({ ...submit, query: 'a box or a car' }, undefined));
    expect(seen).toMatchObject({ answerable: true });
    expect(seen.note).toBeUndefined();
    delete h.gateway.stages['transcribe-clip'];
    await h.store.put('uploads/spoken.mp4', Buffer.from('a video with speech'));
    const spoken = finalOf(
      await h
        .service()
        .submit(
          { ...submit, video_uri: 'store://uploads/spoken.mp4', request_id: 'spoken', query: 'a box' },
          undefined,
        ),
    );
    expect(spoken).toMatchObject({ answerable: true, matches: [] });
  });

  it('the same Idempotency-Key twice runs once and returns the same result', async () => {
    const first = finalOf(await h.service().submit(submit, 'key-123'));
    const second = finalOf(await h.service().submit({ ...submit }, 'key-123'));
    expect(second).toEqual(first);
    expect(h.gateway.repeated()).toEqual([]);
  });

  describe('an id used again for another request', () => {
    // Each way a request gets its id, and what the first submission under it sends.
    const ways = [
      { by: 'Idempotency-Key', first: submit, key: 'key-reused', callId: undefined },
      {
        by: 'request_id',
        first: { ...submit, request_id: 'client-reused' },
        key: undefined,
        callId: undefined,
      },
      { by: 'X-Call-Id', first: submit, key: undefined, callId: 'call-reused' },
    ] as const;
    const changes = [
      { video_uri: 'store://uploads/other.mp4' },
      { query: 'find the dog' },
      { profile: 'fast' as const },
      { overrides: { frames: { fps: 2 } } },
      { callback_url: 'http://127.0.0.1:9/hook' },
    ];

    it.each(ways)(
      'by $by: 422 IDEMPOTENCY_KEY_MISMATCH, nothing runs or is written; the same body gets the first request',
      async (way) => {
        await h.store.put('uploads/other.mp4', Buffer.from('another video'));
        const first = finalOf(await h.service().submit(way.first, way.key, way.callId));
        const calls = h.gateway.invocations.size;
        const before = await snapshot();
        for (const change of changes) {
          await expect(
            h.service().submit({ ...way.first, ...change }, way.key, way.callId),
            JSON.stringify(change),
          ).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_MISMATCH', status: 422, details: { by: way.by } });
        }
        expect(await snapshot()).toEqual(before);
        expect(h.gateway.invocations.size).toBe(calls);
        expect(h.gateway.repeated()).toEqual([]);
        // The same body again is the same request.
        expect(finalOf(await h.service().submit({ ...way.first }, way.key, way.callId))).toEqual(first);
        expect((await stateOf(first.request_id)).request.query).toBe(submit.query);
      },
    );

    it('two submissions under one key with different bodies at once: one runs, the other is refused', async () => {
      const outcomes = await Promise.allSettled([
        h.service().submit(submit, 'key-race'),
        h.service().submit({ ...submit, query: 'find the dog' }, 'key-race'),
      ]);
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(refused).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
        code: 'IDEMPOTENCY_KEY_MISMATCH',
      });
      expect(h.gateway.repeated()).toEqual([]);
    });
  });

  describe("an id guessed in advance cannot be taken for another caller's key", () => {
    // What anyone could compute from a key or a call id before: its plain sha256.
    const guessed = (prefix: string, text: string) =>
      `${prefix}${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;

    it.each([
      { name: 'an Idempotency-Key', key: 'order-17', callId: undefined, id: guessed('k_', 'order-17') },
      { name: 'an X-Call-Id', key: undefined, callId: 'call-17', id: guessed('c_', 'call-17') },
    ])('$name: the victim gets a request of its own', async ({ key, callId, id }) => {
      await h.store.put('uploads/other.mp4', Buffer.from('the attacker video'));
      // The attacker creates a request under the id the victim's key would have got.
      const squat = finalOf(
        await h
          .service()
          .submit(
            { ...submit, video_uri: 'store://uploads/other.mp4', query: 'planted', request_id: id },
            undefined,
          ),
      );
      expect(squat.request_id).toBe(id);
      const victim = finalOf(await h.service().submit(submit, key, callId));
      expect(victim.request_id).not.toBe(id);
      expect(victim.query).toBe(submit.query);
      const state = await stateOf(victim.request_id);
      expect(state.request).toMatchObject({ video_uri: submit.video_uri, query: submit.query });
    });
  });

  it('the same gateway call id delivered twice (queue-worker redelivery) runs once', async () => {
    const first = finalOf(await h.service().submit(submit, undefined, 'call-abc'));
    const again = finalOf(await h.service().submit(submit, undefined, 'call-abc'));
    expect(again.request_id).toBe(first.request_id);
    expect(h.gateway.repeated()).toEqual([]);
    const other = finalOf(await h.service().submit(submit, undefined, 'call-def'));
    expect(other.request_id).not.toBe(first.request_id);
  });

  it('two concurrent submissions with one request_id start one run', async () => {
    const [a, b] = await Promise.all([
      h.service().submit({ ...submit, request_id: 'client-1' }, undefined),
      h.service().submit({ ...submit, request_id: 'client-1' }, undefined),
    ]);
    expect([a.kind, b.kind]).toContain('final');
    expect(h.gateway.repeated()).toEqual([]);
  });

  it('resumes after the driver dies mid-run without invoking any succeeded task again', async () => {
    const crash = new AbortController();
    h.gateway.hangAfter = 6; // the 7th invocation never answers, then the driver "dies"
    void h.service({ leaseMs: 300 }, crash.signal).submit({ ...submit, request_id: 'crashy' }, undefined);
    await waitFor(async () => (h.gateway.invocations.size >= 7 ? true : undefined));
    // Let the driver persist what finished (its flush interval is 20 ms), then it "dies".
    const succeeded = async () =>
      Object.entries((await stateOf('crashy')).tasks)
        .filter(([, t]) => t.status === 'SUCCEEDED')
        .map(([k]) => k);
    // The source copy and six invocations.
    await waitFor(async () => ((await succeeded()).length >= 7 ? true : undefined));
    crash.abort();
    const done = await succeeded();
    h.gateway.hangAfter = Number.POSITIVE_INFINITY;
    await new Promise((r) => setTimeout(r, 400)); // the lease expires
    const before = new Map(h.gateway.invocations);
    const result = finalOf(await h.service().resume('crashy'));
    expect(result.status).toBe('SUCCEEDED');
    for (const key of done) expect(h.gateway.invocations.get(key)).toBe(before.get(key));
    expect((await stateOf('crashy')).runs).toBe(2);
  });

  it('a live lease makes a second driver report status instead of driving', async () => {
    h.gateway.faults.set('extract-audio', ['hang']);
    const stop = new AbortController();
    const first = h
      .service({ leaseMs: 60_000 }, stop.signal)
      .submit({ ...submit, request_id: 'leased' }, undefined);
    await waitFor(async () => (h.gateway.invocations.has('extract-audio') ? true : undefined));
    const other = await h.service().resume('leased');
    expect(other).toMatchObject({ kind: 'status', httpStatus: 202 });
    expect(h.gateway.invocations.get('extract-audio')).toBe(1);
    stop.abort();
    await first;
  });

  it('two drivers resuming an expired lease at once: exactly one drives', async () => {
    const crash = new AbortController();
    h.gateway.hangAfter = 0;
    void h.service({ leaseMs: 200 }, crash.signal).submit({ ...submit, request_id: 'race' }, undefined);
    await waitFor(async () => (h.gateway.invocations.size >= 1 ? true : undefined));
    crash.abort();
    await new Promise((r) => setTimeout(r, 300));
    h.gateway.hangAfter = Number.POSITIVE_INFINITY;
    const outcomes = await Promise.all([h.service().resume('race'), h.service().resume('race')]);
    const kinds = outcomes.map((o) => (o.kind === 'final' ? 'drove' : 'status'));
    expect(kinds.sort()).toEqual(['drove', 'status']);
    expect(h.gateway.repeated()).toEqual(['extract-audio']); // the hung call, then the one live driver
  });

  it('cancel mid-run marks CANCELLED and invokes nothing more', async () => {
    h.gateway.faults.set('transcode-clip/0000', ['hang']);
    const running = h.service().submit({ ...submit, request_id: 'cancel-me' }, undefined);
    await waitFor(async () => (h.gateway.invocations.has('transcode-clip/0000') ? true : undefined));
    await h.service().cancel('cancel-me');
    const result = finalOf(await running);
    expect(result.status).toBe('CANCELLED');
    const count = h.gateway.invocations.size;
    await new Promise((r) => setTimeout(r, 100));
    expect(h.gateway.invocations.size).toBe(count);
    expect((await stateOf('cancel-me')).status).toBe('CANCELLED');
  });

  it('hands over to a continuation when its time budget is spent', async () => {
    const first = await h
      .service({ budgetMs: 1, maxConcurrent: 1 })
      .submit({ ...submit, request_id: 'long' }, undefined);
    expect(first).toMatchObject({ kind: 'status', httpStatus: 202 });
    expect(h.continued).toEqual(['long']);
    expect((await stateOf('long')).lease).toBeNull();
    const result = finalOf(await h.service().resume('long'));
    expect(result.status).toBe('SUCCEEDED');
    expect(h.gateway.repeated()).toEqual([]);
  });

  describe('http(s) sources', () => {
    let server: Server;
    let base: string;
    let hits: Map<string, number>;
    let encodings: Array<string | undefined>;
    let closed: string[];
    beforeEach(async () => {
      hits = new Map();
      encodings = [];
      closed = [];
      server = createServer((req, res) => {
        const path = req.url ?? '/';
        hits.set(path, (hits.get(path) ?? 0) + 1);
        encodings.push(req.headers['accept-encoding']);
        res.on('close', () => closed.push(path));
        if (path === '/video.mp4') return res.end('fake video bytes');
        if (path === '/slow.mp4') return trickle(res, 20, 100, true); // about 2 s
        if (path === '/endless.mp4') return trickle(res, 200, 50, false);
        if (path === '/hang.mp4') return undefined; // answers nothing
        if (path === '/gzip.mp4') {
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-encoding': 'gzip' });
          return res.end(gzipSync(Buffer.alloc(5 * 1024 * 1024)));
        }
        if (path === '/empty.mp4') return res.end();
        if (path === '/cut.mp4') {
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '100000' });
          res.write(Buffer.alloc(1000));
          return setTimeout(() => res.destroy(), 50);
        }
        if (req.url === '/to-metadata') {
          res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
          return res.end();
        }
        if (req.url === '/to-file') {
          res.writeHead(302, { location: 'file:///etc/passwd' });
          return res.end();
        }
        if (req.url === '/huge') return res.end(Buffer.alloc(11 * 1024 * 1024));
        res.writeHead(404);
        res.end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );

    /** Sends `chunks` small pieces `everyMs` apart, then ends (or, with end false, just stops). */
    function trickle(res: ServerResponse, chunks: number, everyMs: number, end: boolean) {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write('fake video bytes');
        if (++sent < chunks) return;
        clearInterval(timer);
        if (end) res.end();
      }, everyMs);
    }

    it('fetches an allowed http source into the request input', async () => {
      const result = finalOf(
        await h.service().submit({ ...submit, video_uri: `${base}/video.mp4` }, undefined),
      );
      expect(result.status).toBe('SUCCEEDED');
      const manifest = requestKeys(result.request_id).localManifest('copy-source');
      const { output } = await loadManifest(h.store, 'copy-source', manifest);
      const copied = await h.store.getBytes(output.source_key);
      expect(copied.toString()).toBe('fake video bytes');
      expect(output).toMatchObject({
        sha256: createHash('sha256').update('fake video bytes').digest('hex'),
        size_bytes: 16,
        name: 'video.mp4',
      });
    });

    it('a resumed request reuses the copy a dead driver finished, and does not fetch the source again', async () => {
      h.gateway.faults.set('extract-audio', ['hang']);
      const crash = new AbortController();
      const body = { ...submit, video_uri: `${base}/video.mp4`, request_id: 'copied-then-died' };
      void h.service({ leaseMs: 300 }, crash.signal).submit(body, undefined);
      await waitFor(async () => (h.gateway.invocations.has('extract-audio') ? true : undefined));
      crash.abort();
      // As if it died after the manifest and before state.json said so.
      await updateState(h.store, 'copied-then-died', (s) => {
        s.tasks['copy-source'] = { status: 'RUNNING', attempts: 1 };
        s.status = 'INIT';
        return true;
      });
      await new Promise((r) => setTimeout(r, 400)); // the lease expires
      const result = finalOf(await h.service().resume('copied-then-died'));
      expect(result.status).toBe('SUCCEEDED');
      expect(hits.get('/video.mp4')).toBe(1);
      expect((await stateOf('copied-then-died')).tasks['copy-source']).toMatchObject({
        status: 'SUCCEEDED',
        reused: true,
        attempts: 1,
      });
    });

    it.each([
      ['/to-metadata', 'SOURCE_REFUSED'],
      ['/to-file', 'SOURCE_REFUSED'],
      ['/huge', 'SOURCE_TOO_LARGE'],
      ['/missing', 'SOURCE_FETCH_FAILED'],
      ['/gzip.mp4', 'UNSUPPORTED_CONTENT_ENCODING'],
      ['/empty.mp4', 'EMPTY_INPUT'],
    ])('%s fails the request with %s and writes only under its own prefix', async (path, code) => {
      const outcome = await h
        .service()
        .submit({ ...submit, video_uri: `${base}${path}`, request_id: 'bad-src' }, undefined);
      expect(answered(outcome)).toEqual({ status: 422, code });
      const state = await stateOf('bad-src');
      expect(state).toMatchObject({
        status: 'FAILED',
        error: { code },
        tasks: { 'copy-source': { status: 'FAILED', attempts: 1, error: { code } } },
      });
      const keys = await listAll();
      expect(keys.filter((k) => !k.startsWith('uploads/')).every((k) => k.includes('bad-src'))).toBe(true);
      expect(keys.some((k) => k.includes('/input/'))).toBe(false);
    });

    it('asks for the bytes as they are and never stores a gzip answer decoded', async () => {
      const outcome = await h
        .service()
        .submit({ ...submit, video_uri: `${base}/gzip.mp4`, request_id: 'gzipped' }, undefined);
      expect(answered(outcome)).toEqual({ status: 422, code: 'UNSUPPORTED_CONTENT_ENCODING' });
      expect(encodings).toEqual(['identity']);
      expect((await listAll()).filter((k) => k.includes('/input/'))).toEqual([]);
    });

    it('an unreachable source is retried with backoff (recorded, honoured), then FAILED with the cause', async () => {
      const dead = `http://127.0.0.1:${await closedPort()}/video.mp4`;
      const config = { sourceAttempts: 3, sourceBackoffMs: 600, sourceBackoffMaxMs: 2000 };
      const body = { ...submit, video_uri: dead, request_id: 'unreachable' };
      const first = await h.service(config).submit(body, undefined);
      expect(first).toMatchObject({ kind: 'status', httpStatus: 202 });
      let state = await stateOf('unreachable');
      expect(state).toMatchObject({
        status: 'INIT',
        error: null,
        lease: null,
        tasks: { 'copy-source': { status: 'PENDING', attempts: 1, error: { code: 'SOURCE_UNREACHABLE' } } },
      });
      expect(Date.parse(state.tasks['copy-source']!.retry_at!)).toBeGreaterThan(Date.now());
      expect(await h.store.head(indexKeys.active('unreachable'))).toBeDefined();
      // A resume before retry_at waits: no second attempt.
      expect(await h.service(config).resume('unreachable')).toMatchObject({
        kind: 'status',
        httpStatus: 202,
      });
      expect((await stateOf('unreachable')).tasks['copy-source']?.attempts).toBe(1);

      for (const attempt of [2, 3]) {
        state = await stateOf('unreachable');
        const retryAt = Date.parse(state.tasks['copy-source']!.retry_at!);
        await new Promise((r) => setTimeout(r, retryAt - Date.now() + 5));
        const resumed = await h.service(config).resume('unreachable');
        if (attempt < 3) expect(resumed).toMatchObject({ kind: 'status', httpStatus: 202 });
        else expect(answered(resumed)).toEqual({ status: 502, code: 'SOURCE_UNREACHABLE' });
        expect((await stateOf('unreachable')).tasks['copy-source']?.attempts).toBe(attempt);
      }
      state = await stateOf('unreachable');
      expect(state).toMatchObject({
        status: 'FAILED',
        lease: null,
        error: { code: 'SOURCE_UNREACHABLE', details: { attempts: 3 } },
        tasks: { 'copy-source': { status: 'FAILED', attempts: 3 } },
      });
      expect(await h.store.head(indexKeys.active('unreachable'))).toBeUndefined();
    });

    it.each([
      ['/hang.mp4', 'SOURCE_TIMEOUT'], // no answer at all
      ['/endless.mp4', 'SOURCE_TIMEOUT'], // an answer that never ends
      ['/cut.mp4', 'SOURCE_UNREACHABLE'], // the connection drops mid-way
    ])('%s fails with %s once its attempts are spent, leaving no copy', async (path, code) => {
      const config = { sourceAttempts: 1, sourceTimeoutMs: 300 };
      const body = { ...submit, video_uri: `${base}${path}`, request_id: 'stuck-src' };
      expect(answered(await h.service(config).submit(body, undefined))).toMatchObject({ code });
      expect(await stateOf('stuck-src')).toMatchObject({
        status: 'FAILED',
        error: { code },
        tasks: { 'copy-source': { status: 'FAILED', attempts: 1 } },
      });
      expect((await listAll()).filter((k) => k.includes('/input/'))).toEqual([]);
    });

    it('renews the lease while a slow source is copied, so nobody else copies it', async () => {
      const config = { leaseMs: 600 };
      const running = h
        .service(config)
        .submit({ ...submit, video_uri: `${base}/slow.mp4`, request_id: 'slow' }, undefined);
      await new Promise((r) => setTimeout(r, 1300)); // past two leases, still copying
      const state = await stateOf('slow');
      expect(state.tasks['copy-source']?.status).not.toBe('SUCCEEDED');
      expect(Date.parse(state.lease!.expires_at)).toBeGreaterThan(Date.now());
      const other = await h.service(config).resume('slow');
      expect(other).toMatchObject({ kind: 'status', httpStatus: 202 });
      expect(finalOf(await running).status).toBe('SUCCEEDED');
      expect(hits.get('/slow.mp4')).toBe(1);
      const { output } = await loadManifest(
        h.store,
        'copy-source',
        requestKeys('slow').localManifest('copy-source'),
      );
      const copied = await h.store.getBytes(output.source_key);
      expect(copied.toString()).toBe('fake video bytes'.repeat(20));
      // Hashed across the 20 pieces it arrived in, as they streamed in.
      expect(output.sha256).toBe(createHash('sha256').update(copied).digest('hex'));
    });

    it('stops copying when another owner takes the lease over, writing nothing more', async () => {
      const running = h
        .service({ leaseMs: 300 })
        .submit({ ...submit, video_uri: `${base}/endless.mp4`, request_id: 'taken' }, undefined);
      await waitFor(async () => (hits.get('/endless.mp4') ? true : undefined));
      const thief = { owner: 'another-replica', expires_at: new Date(Date.now() + 60_000).toISOString() };
      await updateState(h.store, 'taken', (s) => {
        s.lease = thief;
        return true;
      });
      const started = Date.now();
      expect(await running).toMatchObject({ kind: 'status', httpStatus: 202 });
      expect(Date.now() - started).toBeLessThan(3000); // the endless source would take 10 s
      await waitFor(async () => (closed.includes('/endless.mp4') ? true : undefined));
      const state = await stateOf('taken');
      expect(state.lease).toEqual(thief);
      expect(state.tasks['copy-source']?.status).not.toBe('SUCCEEDED');
      expect((await listAll()).filter((k) => k.includes('/input/'))).toEqual([]);
    });
  });

  describe('callbacks', () => {
    let server: Server;
    let received: Array<{ headers: IncomingMessage['headers']; body: string }>;
    let answers: number[];
    let url: string;
    beforeEach(async () => {
      received = [];
      answers = [];
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          res.statusCode = answers.shift() ?? 200;
          res.end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    it('is signed, retried after a 500 with the same delivery id, and recorded', async () => {
      answers = [500];
      const service = h.service();
      const result = finalOf(await service.submit({ ...submit, callback_url: url }, undefined));
      await service.settled(); // delivered after the answer (callback-outbox.test.ts)
      expect(received).toHaveLength(2);
      const [first, second] = received;
      expect(first?.headers['webhook-id']).toBe(second?.headers['webhook-id']);
      // The receiver's side, as the Standard Webhooks library has it (callback-outbox.test.ts has more).
      const receiver = new Webhook(`whsec_${Buffer.from('test-signing-key').toString('base64')}`);
      const body = receiver.verify(second!.body, second!.headers as Record<string, string>) as {
        request_id: string;
        status: string;
        result: { matches: unknown[] };
      };
      expect(body).toMatchObject({ request_id: result.request_id, status: 'SUCCEEDED' });
      expect(body.result.matches).toHaveLength(1);
      const state = await stateOf(result.request_id);
      expect(state.callbacks.map((c) => [c.attempt, c.status_code, c.delivered])).toEqual([
        [1, 500, false],
        [2, 200, true],
      ]);
    });

    it('a callback URL to a refused address is a 4xx before anything is written', async () => {
      const before = await listAll();
      await expect(
        h.service().submit({ ...submit, callback_url: 'http://169.254.169.254/hook' }, undefined),
      ).rejects.toMatchObject({ code: 'CALLBACK_URL_REFUSED' });
      expect(await listAll()).toEqual(before);
    });
  });
});

async function listAll(): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of h.store.listAll('')) keys.push(o.key);
  return keys;
}

/** Every object with its ETag: a rewrite shows as well as a new key. */
async function snapshot(): Promise<Record<string, string>> {
  const objects: Record<string, string> = {};
  for await (const o of h.store.listAll('')) objects[o.key] = o.etag;
  return objects;
}

/** A loopback port nothing listens on (connection refused). */
async function closedPort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}
