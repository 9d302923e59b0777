import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { createStore } from '../../common/storage/index.js';
import { type Gateway, startGateway } from '../../gateway/index.js';
import { waitFor } from '../helpers/wait.js';

const STACK = join(import.meta.dirname, '../fixtures/functions/stack.yml');

interface Callback {
  headers: IncomingHttpHeaders;
  body: string;
}

let gateway: Gateway;
let work: string;
let markers: string;
let receiver: Server;
let receiverUrl: string;
const callbacks: Callback[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clipseek-gateway-'));
  markers = join(work, 'markers');
  const secrets = join(work, 'secrets');
  for (const dir of [markers, secrets]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(secrets, 'callback-signing-key'), 'key-from-secret-file\n');
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      callbacks.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end('thanks');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  gateway = await startGateway({
    stackFile: STACK,
    port: 0,
    storageUrl: pathToFileURL(join(work, 'bucket')).href,
    env: {
      ...process.env,
      MARKER_DIR: markers,
      FAKE_GREETING: 'bonjour',
      CALLBACK_SIGNING_KEY: 'gateway-env-key',
    },
    secretsDir: secrets,
    cron: false,
    functionOutput: 'ignore',
    logger: createLogger({ name: 'gateway-test', level: 'silent' }),
    restartBackoff: { baseMs: 50, maxMs: 500 },
    stopGraceMs: 2000,
  });
});

afterAll(async () => {
  await gateway?.close();
  receiver?.close();
  rmSync(work, { recursive: true, force: true });
});

const call = (path: string, init: RequestInit = {}) => fetch(`${gateway.url}${path}`, init);

describe('local gateway: sync calls', () => {
  it('answers /healthz', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
  });

  it('proxies method, sub-path, query, headers and body, and echoes the call id', async () => {
    const res = await call('/function/echo/some/path?x=1&y=two', {
      method: 'POST',
      body: '{"hello":"world"}',
      // X-Clipseek-Tenant: a header the API gateway in front sets (README: Tenancy) reaches the function.
      headers: {
        'Content-Type': 'application/json',
        'X-Call-Id': 'call-from-client',
        'X-Clipseek-Tenant': 'acme',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-call-id')).toBe('call-from-client');
    expect(res.headers.get('x-fake')).toBe('yes');
    expect(Number(res.headers.get('x-duration-seconds'))).toBeGreaterThanOrEqual(0);
    const seen = (await res.json()) as {
      method: string;
      path: string;
      query: string;
      body: string;
      headers: IncomingHttpHeaders;
    };
    expect(seen).toMatchObject({
      method: 'POST',
      path: '/some/path',
      query: '?x=1&y=two',
      body: '{"hello":"world"}',
    });
    expect(seen.headers['x-call-id']).toBe('call-from-client');
    expect(seen.headers['x-clipseek-tenant']).toBe('acme');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['x-start-time']).toMatch(/^\d+$/);
  });

  it('generates a call id when the caller sends none and gives it to the function', async () => {
    const res = await call('/function/echo');
    const seen = (await res.json()) as { method: string; path: string; headers: IncomingHttpHeaders };
    expect(seen.method).toBe('GET');
    expect(seen.path).toBe('/');
    expect(res.headers.get('x-call-id')).toBeTruthy();
    expect(seen.headers['x-call-id']).toBe(res.headers.get('x-call-id'));
  });

  it('passes the function its stack.yml environment, secrets, STORAGE_URL and GATEWAY_URL', async () => {
    const res = await call(
      '/function/echo/env?names=GREETING,exec_timeout,CALLBACK_SIGNING_KEY,STORAGE_URL,GATEWAY_URL,PORT',
    );
    const env = (await res.json()) as Record<string, string>;
    expect(env.GREETING).toBe('bonjour');
    expect(env.exec_timeout).toBe('10s');
    expect(env.CALLBACK_SIGNING_KEY).toBe('key-from-secret-file');
    expect(env.STORAGE_URL).toBe(pathToFileURL(join(work, 'bucket')).href);
    expect(env.GATEWAY_URL).toBe(gateway.url);
    expect(Number(env.PORT)).toBe(gateway.functions.get('echo')!.port);
  });

  it('keeps secrets a function does not name out of its environment', async () => {
    const res = await call('/function/slow/env?names=CALLBACK_SIGNING_KEY,MARKER_DIR');
    expect(await res.json()).toEqual({ CALLBACK_SIGNING_KEY: null, MARKER_DIR: markers });
  });

  it('passes the function status through (errors are not turned into 200)', async () => {
    const res = await call('/function/echo/status?code=503');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FAKE');
  });

  it('answers 404 for an unknown function, sync and async, and for unknown routes', async () => {
    for (const path of ['/function/nope', '/async-function/nope', '/nothing-here']) {
      const res = await call(path, { method: 'POST', body: '{}' });
      expect(res.status, path).toBe(404);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toMatch(/NOT_FOUND/);
    }
  });

  it('answers 504 once a call runs past exec_timeout, and the function sees its caller go', async () => {
    const started = Date.now();
    const res = await call('/function/slow/sleep?ms=8000', { headers: { 'X-Call-Id': 'too-slow-1' } });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('EXEC_TIMEOUT');
    // exec_timeout is 1 s and the function wants 8 s: the gateway cut it.
    expect(Date.now() - started).toBeLessThan(7000);
    await waitFor(() => existsSync(join(markers, 'aborted-too-slow-1')), 'the function to see the abort');
  });

  it('answers 429 past max_inflight and takes calls again once a slot frees', async () => {
    const first = call('/function/single/hold', { headers: { 'X-Call-Id': 'holder-1' } });
    await waitFor(() => existsSync(join(markers, 'held-holder-1')), 'the first call to reach the function');
    const second = await call('/function/single/hold');
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_REQUESTS');
    writeFileSync(join(markers, 'release'), '');
    expect((await first).status).toBe(200);
    const single = gateway.functions.get('single')!;
    await waitFor(() => single.inFlight === 0, 'the slot to free');
    const third = await call('/function/single/hold');
    expect(third.status).toBe(200);
    rmSync(join(markers, 'release'));
  });

  it('restarts a function process killed with SIGKILL, and the next call succeeds', async () => {
    const echo = gateway.functions.get('echo')!;
    const pid = echo.pid!;
    const restarts = echo.restarts;
    process.kill(pid, 'SIGKILL');
    await waitFor(
      () => echo.state !== 'ready' || echo.restarts > restarts,
      'the gateway to notice the death',
    );
    const res = await call('/function/echo', { method: 'POST', body: 'again' });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { pid: number; body: string };
    expect(seen.body).toBe('again');
    expect(seen.pid).not.toBe(pid);
    expect(echo.restarts).toBe(restarts + 1);
  });

  it('starts a scale-from-zero function on its first call', async () => {
    const lazy = gateway.functions.get('lazy')!;
    expect(lazy.state).toBe('idle');
    const before = (await (await call('/system/function/lazy')).json()) as { replicas: number };
    expect(before.replicas).toBe(0);
    const res = await call('/function/lazy');
    expect(res.status).toBe(200);
    expect(lazy.state).toBe('ready');
  });
});

describe('local gateway: async calls', () => {
  it('answers 202 with X-Call-Id at once, then POSTs the result to X-Callback-Url', async () => {
    const res = await call('/async-function/echo/work?n=1', {
      method: 'POST',
      body: '{"job":1}',
      headers: { 'X-Callback-Url': receiverUrl, 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(202);
    const callId = res.headers.get('x-call-id')!;
    expect(callId).toBeTruthy();
    const callback = await waitFor(
      () => callbacks.find((c) => c.headers['x-call-id'] === callId),
      'the callback',
    );
    expect(callback.headers['x-function-status']).toBe('200');
    expect(callback.headers['x-function-name']).toBe('echo');
    expect(Number(callback.headers['x-duration-seconds'])).toBeGreaterThanOrEqual(0);
    expect(callback.headers['content-type']).toBe('application/json');
    const result = JSON.parse(callback.body) as {
      method: string;
      path: string;
      query: string;
      body: string;
      headers: IncomingHttpHeaders;
    };
    expect(result).toMatchObject({ method: 'POST', path: '/work', query: '?n=1', body: '{"job":1}' });
    expect(result.headers['x-call-id']).toBe(callId);
  });

  it('calls back with the failure status and error body when the function times out', async () => {
    const res = await call('/async-function/slow/sleep?ms=8000', {
      method: 'POST',
      headers: { 'X-Callback-Url': receiverUrl },
    });
    expect(res.status).toBe(202);
    const callId = res.headers.get('x-call-id')!;
    const callback = await waitFor(
      () => callbacks.find((c) => c.headers['x-call-id'] === callId),
      'the callback',
    );
    expect(callback.headers['x-function-status']).toBe('504');
    expect(callback.headers['x-function-name']).toBe('slow');
    expect(JSON.parse(callback.body).error.code).toBe('EXEC_TIMEOUT');
  });

  it('runs an async call that has no X-Callback-Url', async () => {
    const res = await call('/async-function/echo', { method: 'POST', body: 'fire and forget' });
    expect(res.status).toBe(202);
    const callId = res.headers.get('x-call-id')!;
    await waitFor(() => existsSync(join(markers, `called-echo-${callId}`)), 'the call to run');
  });

  it('refuses an unparsable X-Callback-Url with 400 and runs nothing', async () => {
    const res = await call('/async-function/echo', {
      method: 'POST',
      body: '{}',
      headers: { 'X-Callback-Url': 'not a url', 'X-Call-Id': 'bad-callback-1' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_CALLBACK_URL');
    await gateway.asyncIdle();
    expect(existsSync(join(markers, 'called-echo-bad-callback-1'))).toBe(false);
  });

  it('refuses async bodies over 1 MB with 413', async () => {
    const res = await call('/async-function/echo', {
      method: 'POST',
      body: Buffer.alloc(1024 * 1024 + 1, 97),
    });
    expect(res.status).toBe(413);
  });

  it('queues async calls past max_inflight instead of failing them', async () => {
    const first = call('/function/single/hold', { headers: { 'X-Call-Id': 'holder-2' } });
    await waitFor(() => existsSync(join(markers, 'held-holder-2')), 'the sync call to hold the only slot');
    const res = await call('/async-function/single/hold', {
      method: 'POST',
      headers: { 'X-Callback-Url': receiverUrl },
    });
    expect(res.status).toBe(202);
    const callId = res.headers.get('x-call-id')!;
    writeFileSync(join(markers, 'release'), '');
    expect((await first).status).toBe(200);
    const callback = await waitFor(
      () => callbacks.find((c) => c.headers['x-call-id'] === callId),
      'the callback',
    );
    expect(callback.headers['x-function-status']).toBe('200');
    rmSync(join(markers, 'release'));
  });
});

describe('local gateway: system API and cron', () => {
  it('lists functions in the OpenFaaS shape', async () => {
    const res = await call('/system/functions');
    expect(res.status).toBe(200);
    const list = (await res.json()) as Array<{ name: string }>;
    expect(list.map((f) => f.name).sort()).toEqual(['adapter', 'echo', 'lazy', 'single', 'slow', 'ticker']);
    const echo = (await (await call('/system/function/echo')).json()) as Record<string, unknown>;
    expect(echo).toMatchObject({ name: 'echo', replicas: 1, availableReplicas: 1, namespace: 'openfaas-fn' });
    expect(echo.invocationCount).toBeGreaterThan(0);
    // The environment the process runs with (the gateway's --storage and URL), not the stack file's.
    const env = (await (
      await call(`/function/echo/env?names=${Object.keys(echo.envVars as object).join(',')}`)
    ).json()) as Record<string, string>;
    expect(echo.envVars).toEqual(env);
    expect(echo.envVars).toMatchObject({
      STORAGE_URL: pathToFileURL(join(work, 'bucket')).href,
      GATEWAY_URL: gateway.url,
      GREETING: 'bonjour',
      exec_timeout: '10s',
    });
    expect(Object.keys(echo.envVars as object)).not.toContain('CALLBACK_SIGNING_KEY');
    expect((await call('/system/function/nope')).status).toBe(404);
  });

  it('invokes cron-function schedules through the gateway', async () => {
    const due = await gateway.scheduler.runDue(new Date('2030-01-01T00:00:00Z'));
    expect(due).toEqual(['ticker']);
    const called = readdirSync(markers).filter((f) => f.startsWith('called-ticker-'));
    expect(called.length).toBeGreaterThan(0);
  });
});

describe('local gateway: functions built with the adapter', () => {
  it('maps thrown errors to statuses and keeps Retry-After', async () => {
    const busy = await call('/function/adapter/busy', { method: 'POST' });
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('2');
    const bad = await call('/function/adapter/bad', { method: 'POST' });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_THING');
    const boom = await call('/function/adapter/boom', { method: 'POST' });
    expect(boom.status).toBe(500);
    expect(((await boom.json()) as { error: { code: string } }).error.code).toBe('INTERNAL');
    const badJson = await call('/function/adapter', { method: 'POST', body: '{"oops":' });
    expect(badJson.status).toBe(422);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
  });

  it('gives the handler the call id and a store on STORAGE_URL', async () => {
    const res = await call('/function/adapter/store', {
      method: 'POST',
      body: '{"n":42}',
      headers: { 'X-Call-Id': 'adapter-call-1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-call-id')).toBe('adapter-call-1');
    const store = createStore(pathToFileURL(join(work, 'bucket')).href);
    expect((await store.getJson('adapter/hello.json')).value).toEqual({ n: 42 });
  });
});
