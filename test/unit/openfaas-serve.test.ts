import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  InputError,
  NotFoundError,
  RetryableError,
  TimeoutError,
} from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { taskResults } from '../../common/manifests.js';
import { RETRYABLE_HEADER } from '../../common/openfaas/error-response.js';
import { stageHandler } from '../../common/openfaas/serve.js';
import { createFunctionServer, type FunctionServer } from '../../common/openfaas/server.js';
import type { FunctionHandler, FunctionRuntime } from '../../common/openfaas/types.js';
import { defineStage } from '../../common/stage.js';
import type { ObjectStore } from '../../common/storage/types.js';

/** Just what runStageOnce touches: getJson, put, head (is the request open?), and the claim's conditional writes and delete. */
function memoryStore(): ObjectStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  const store = {
    url: 'memory://test',
    objects,
    async getJson(key: string) {
      const text = objects.get(key);
      if (text === undefined) throw new NotFoundError('NOT_FOUND', `no ${key}`);
      return { value: JSON.parse(text), etag: 'e' };
    },
    async put(key: string, body: unknown) {
      objects.set(key, String(body));
      return { etag: 'e' };
    },
    async putIfAbsent(key: string, body: unknown) {
      if (objects.has(key)) throw new ConflictError(`${key} exists`);
      objects.set(key, String(body));
      return { etag: 'e' };
    },
    async putIfMatch(key: string, body: unknown) {
      objects.set(key, String(body));
      return { etag: 'e' };
    },
    async delete(key: string) {
      objects.delete(key);
    },
    async head(key: string) {
      const text = objects.get(key);
      return text === undefined ? undefined : { key, size: text.length, etag: 'e', lastModified: new Date() };
    },
  };
  return store as unknown as ObjectStore & { objects: Map<string, string> };
}

function runtime(store: ObjectStore = memoryStore()): FunctionRuntime {
  return {
    store,
    logger: createLogger({ name: 'adapter-test', level: 'silent' }),
    now: () => new Date('2030-01-02T03:04:05.000Z'),
    env: {},
    stopping: new AbortController().signal,
  };
}

const running: FunctionServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown(100)));
});

async function serve(handler: FunctionHandler, rt = runtime(), execTimeoutMs = 0): Promise<string> {
  const fn = createFunctionServer({ name: 'test-fn', logger: rt.logger, handler, execTimeoutMs });
  running.push(fn);
  fn.server.listen(0, '127.0.0.1');
  await once(fn.server, 'listening');
  return `http://127.0.0.1:${(fn.server.address() as AddressInfo).port}`;
}

const throwing =
  (err: unknown): FunctionHandler =>
  async () => {
    throw err;
  };

interface ErrorJson {
  error: { code: string; message: string; details: Record<string, unknown> };
}

describe('function adapter: HTTP contract', () => {
  it('answers the watchdog health check', async () => {
    const url = await serve(async () => ({ body: 'unused' }));
    expect((await fetch(`${url}/_/health`)).status).toBe(200);
  });

  it('parses JSON and hands the handler path, query, body and call id; echoes X-Call-Id', async () => {
    let seen: Parameters<FunctionHandler>[0] | undefined;
    const url = await serve(async (req) => {
      seen = req;
      return { status: 201, headers: { 'X-Extra': 'yes' }, body: { ok: true } };
    });
    const res = await fetch(`${url}/a/b?x=1`, {
      method: 'POST',
      body: '{"n":1}',
      headers: { 'X-Call-Id': 'call-123' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-call-id')).toBe('call-123');
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ ok: true });
    expect(seen).toMatchObject({ method: 'POST', path: '/a/b', body: { n: 1 }, callId: 'call-123' });
    expect(seen?.query.get('x')).toBe('1');
  });

  it('generates a call id when none is sent, and an empty body is undefined', async () => {
    let body: unknown = 'unset';
    const url = await serve(async (req) => {
      body = req.body;
      return { body: req.callId };
    });
    const res = await fetch(url, { method: 'POST' });
    expect(body).toBeUndefined();
    expect(res.headers.get('x-call-id')).toBe(await res.text());
  });

  it('answers 422 INVALID_JSON with the error body when the body is not JSON', async () => {
    let called = false;
    const url = await serve(async () => {
      called = true;
      return {};
    });
    const res = await fetch(url, { method: 'POST', body: '{"broken":' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe('INVALID_JSON');
    expect(typeof body.error.message).toBe('string');
    expect(body.error.details).toBeTypeOf('object');
    expect(called).toBe(false);
  });

  it('answers 413 PAYLOAD_TOO_LARGE past maxBodyBytes, declared or streamed, without running the handler', async () => {
    let called = false;
    const fn = createFunctionServer({
      name: 'small',
      logger: runtime().logger,
      maxBodyBytes: 100,
      handler: async () => {
        called = true;
        return {};
      },
    });
    running.push(fn);
    fn.server.listen(0, '127.0.0.1');
    await once(fn.server, 'listening');
    const url = `http://127.0.0.1:${(fn.server.address() as AddressInfo).port}`;
    const declared = await fetch(url, { method: 'POST', body: 'x'.repeat(101) });
    const chunks = [Buffer.alloc(60, 97), Buffer.alloc(60, 97)];
    const streamed = await fetch(url, {
      method: 'POST',
      body: new ReadableStream({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    for (const res of [declared, streamed]) {
      expect(res.status).toBe(413);
      expect(((await res.json()) as ErrorJson).error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        details: { max_bytes: 100 },
      });
    }
    expect(called).toBe(false);
    // Exactly the limit passes: a JSON string of 100 bytes.
    const atLimit = await fetch(url, { method: 'POST', body: JSON.stringify('x'.repeat(98)) });
    expect(atLimit.status).toBe(200);
    expect(called).toBe(true);
  });

  it('maps a thrown retryable error to 5xx, with Retry-After when known', async () => {
    const url = await serve(throwing(new RetryableError('S3_SLOW', 'slow down', { retryAfterMs: 1500 })));
    const res = await fetch(url, { method: 'POST' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get(RETRYABLE_HEADER)).toBe('true');
    expect(((await res.json()) as ErrorJson).error.code).toBe('S3_SLOW');
  });

  it('keeps 429 for throttling and 504 for timeouts', async () => {
    const throttled = await serve(throwing(new RetryableError('THROTTLED', 'later', { status: 429 })));
    expect((await fetch(throttled, { method: 'POST' })).status).toBe(429);
    const late = await serve(throwing(new TimeoutError('FFMPEG_TIMEOUT', 'too long')));
    expect((await fetch(late, { method: 'POST' })).status).toBe(504);
  });

  it('never lets a retryable error out with a non-5xx status', async () => {
    const url = await serve(throwing(new RetryableError('ODD', 'odd status', { status: 200 })));
    const res = await fetch(url, { method: 'POST' });
    expect(res.status).toBe(503);
  });

  it('maps a thrown non-retryable error to its 4xx status', async () => {
    const url = await serve(
      throwing(new InputError('UNKNOWN_PROFILE', 'no such profile', { details: { p: 'x' } })),
    );
    const res = await fetch(url, { method: 'POST' });
    expect(res.status).toBe(422);
    expect(res.headers.get(RETRYABLE_HEADER)).toBe('false');
    expect(await res.json()).toEqual({
      error: { code: 'UNKNOWN_PROFILE', message: 'no such profile', details: { p: 'x' } },
    });
  });

  it('answers 500 INTERNAL for anything else thrown, never 200', async () => {
    for (const thrown of [new Error('bug'), 'a string', undefined, { weird: true }]) {
      const url = await serve(throwing(thrown));
      const res = await fetch(url, { method: 'POST' });
      expect(res.status, String(thrown)).toBe(500);
      expect(((await res.json()) as ErrorJson).error.code).toBe('INTERNAL');
    }
  });

  it('aborts the signal and answers 504 past exec_timeout, even if the handler ignores it', async () => {
    let aborted: unknown;
    const url = await serve(
      (req) =>
        new Promise((resolve) => {
          req.signal.addEventListener('abort', () => {
            aborted = req.signal.reason;
          });
          setTimeout(() => resolve({ body: 'too late' }), 3000);
        }),
      runtime(),
      200,
    );
    const res = await fetch(url, { method: 'POST' });
    expect(res.status).toBe(504);
    expect(((await res.json()) as ErrorJson).error.code).toBe('EXEC_TIMEOUT');
    expect(aborted).toBeInstanceOf(TimeoutError);
  });

  it('aborts the signal when the caller disconnects', async () => {
    let resolveAborted: (v: unknown) => void = () => {};
    const aborted = new Promise((resolve) => {
      resolveAborted = resolve;
    });
    const url = await serve(
      (req) =>
        new Promise(() => {
          req.signal.addEventListener('abort', () => resolveAborted(req.signal.reason));
        }),
    );
    const controller = new AbortController();
    const call = fetch(url, { method: 'POST', signal: controller.signal }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await call;
    expect(((await aborted) as { code: string }).code).toBe('CANCELLED');
  });

  it('drains on shutdown: an in-flight call finishes, new connections are refused', async () => {
    const fn = createFunctionServer({
      name: 'drain',
      logger: runtime().logger,
      handler: () => new Promise((resolve) => setTimeout(() => resolve({ body: { done: true } }), 300)),
    });
    fn.server.listen(0, '127.0.0.1');
    await once(fn.server, 'listening');
    const url = `http://127.0.0.1:${(fn.server.address() as AddressInfo).port}`;
    const inFlight = fetch(url, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fn.inFlight()).toBe(1);
    const stopped = fn.shutdown(5000);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await stopped;
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
  });
});

describe('function adapter: stages', () => {
  const extractAudio = defineStage<'extract-audio', { fail?: Error; badOutput?: boolean }>({
    name: 'extract-audio',
    async run(_input, deps) {
      if (deps.fail) throw deps.fail;
      if (deps.badOutput) return { nonsense: true } as never;
      return {
        probe: {
          format_name: 'mov,mp4',
          duration_s: 10,
          size_bytes: 1000,
          video: { codec: 'h264', width: 640, height: 360, fps: 25 },
          audio: null,
        },
        audio_key: deps.outputKey('audio.wav'),
        has_audio: false,
      };
    },
  });
  const input = { namespace: 'default', request_id: 'req_1', source_key: 'requests/req_1/input/video.mp4' };

  it('answers the manifest, writes it, and reuses it for the same input', async () => {
    const store = memoryStore();
    const rt = runtime(store);
    const url = await serve(stageHandler(extractAudio, rt, {}), rt);
    const first = await fetch(url, { method: 'POST', body: JSON.stringify(input) });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-manifest-reused')).toBe('false');
    const manifest = (await first.json()) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      schema_version: 1,
      stage: 'extract-audio',
      request_id: 'req_1',
      clip: null,
      created_at: '2030-01-02T03:04:05.000Z',
    });
    expect(store.objects.has(taskResults('extract-audio', input)!.keys.manifest)).toBe(true);
    const second = await fetch(url, { method: 'POST', body: JSON.stringify(input) });
    expect(second.headers.get('x-manifest-reused')).toBe('true');
    expect(await second.json()).toEqual(manifest);
  });

  it('answers 422 INVALID_INPUT for input that breaks the contract', async () => {
    const url = await serve(stageHandler(extractAudio, runtime(), {}));
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ request_id: 'x' }) });
    expect(res.status).toBe(422);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(Array.isArray(body.error.details.issues)).toBe(true);
  });

  it('refuses methods other than POST', async () => {
    const url = await serve(stageHandler(extractAudio, runtime(), {}));
    const res = await fetch(url);
    expect(res.status).toBe(405);
  });

  it('passes stage errors through their status and never writes a manifest for them', async () => {
    const store = memoryStore();
    const rt = runtime(store);
    const url = await serve(
      stageHandler(extractAudio, rt, { fail: new RetryableError('FFMPEG_CRASHED', 'signal 9') }),
      rt,
    );
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(input) });
    expect(res.status).toBe(503);
    expect(store.objects.size).toBe(0);
  });

  it('answers a non-retryable 500 when the stage output breaks its contract', async () => {
    const url = await serve(stageHandler(extractAudio, runtime(), { badOutput: true }));
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(input) });
    expect(res.status).toBe(500);
    expect(res.headers.get(RETRYABLE_HEADER)).toBe('false');
  });
});
