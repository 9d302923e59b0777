import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, RetryableError } from '../../common/errors.js';
import { S3Store } from '../../common/storage/s3-store.js';

// The S3 store against a scripted HTTP server speaking S3's error XML: checks
// that the real SDK (its parsing, its own retries) ends in our error types.

type Reply = { status: number; code: string; headers?: Record<string, string> };
let script: (req: IncomingMessage) => Reply;
let requests: string[] = [];
let server: Server;
let endpoint: string;

function respond(res: ServerResponse, reply: Reply) {
  res.writeHead(reply.status, { 'content-type': 'application/xml', ...reply.headers });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${reply.code}</Code><Message>scripted</Message></Error>`,
  );
}

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => respond(res, script(req)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function storeWith(maxAttempts: number, at = endpoint) {
  return new S3Store({
    bucket: 'media',
    endpoint: at,
    forcePathStyle: true,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    maxAttempts,
  });
}

describe('S3Store over HTTP: error responses', () => {
  it('503 SlowDown: the SDK retries, then RetryableError STORAGE_THROTTLED with Retry-After', async () => {
    requests = [];
    script = () => ({ status: 503, code: 'SlowDown', headers: { 'retry-after': '1' } });
    const store = storeWith(2);
    const err = await store.put('a/b.json', '{}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'STORAGE_THROTTLED', retryAfterMs: 1000 });
    expect(requests).toHaveLength(2);
    await store.close();
  });

  it('a 500 that clears on retry succeeds without the caller seeing it', async () => {
    requests = [];
    let n = 0;
    script = () =>
      ++n === 1 ? { status: 500, code: 'InternalError' } : { status: 412, code: 'PreconditionFailed' };
    const store = storeWith(3);
    // Second answer is a 412: proves the retry happened and the final answer is mapped.
    await expect(store.putIfAbsent('a/b.json', '{}')).rejects.toBeInstanceOf(ConflictError);
    expect(requests).toHaveLength(2);
    await store.close();
  });

  it('412 PreconditionFailed on If-Match is a ConflictError', async () => {
    script = () => ({ status: 412, code: 'PreconditionFailed' });
    const store = storeWith(1);
    await expect(store.putIfMatch('a/b.json', '{}', '"e"')).rejects.toBeInstanceOf(ConflictError);
    await store.close();
  });

  it('404 NoSuchKey is NotFoundError', async () => {
    script = () => ({ status: 404, code: 'NoSuchKey' });
    const store = storeWith(1);
    await expect(store.getBytes('a/b.json')).rejects.toBeInstanceOf(NotFoundError);
    await store.close();
  });

  it('403 AccessDenied is STORAGE_FORBIDDEN, not retried', async () => {
    requests = [];
    script = () => ({ status: 403, code: 'AccessDenied' });
    const store = storeWith(3);
    await expect(store.getBytes('a/b.json')).rejects.toMatchObject({
      code: 'STORAGE_FORBIDDEN',
      retryable: false,
    });
    expect(requests).toHaveLength(1);
    await store.close();
  });

  it('a refused connection is RetryableError STORAGE_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const store = storeWith(1, `http://127.0.0.1:${port}`);
    const err = await store.getBytes('a/b.json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await store.close();
  });
});
