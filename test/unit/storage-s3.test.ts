import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ClipseekError,
  ConflictError,
  InputError,
  isRetryable,
  NotFoundError,
  RetryableError,
} from '../../common/errors.js';
import { createRuntime, functionSettings } from '../../common/openfaas/runtime.js';
import { S3Store } from '../../common/storage/s3-store.js';

// The S3 store's request shapes and error mapping, against a mocked client.
// s3rver (used by the HTTP contract suite) does not enforce conditional
// writes, so this is where If-None-Match / If-Match conflicts are tested.

function s3Error(
  name: string,
  status: number,
  extra: { fault?: 'client' | 'server'; headers?: Record<string, string> } = {},
): S3ServiceException {
  const err = new S3ServiceException({
    name,
    $fault: extra.fault ?? (status >= 500 ? 'server' : 'client'),
    $metadata: { httpStatusCode: status },
    message: `${name} (${status})`,
  });
  if (extra.headers) err.$response = { statusCode: status, headers: extra.headers, body: undefined };
  return err;
}

/** A GetObject body as the SDK gives it in Node: a Readable (the SDK adds helpers we do not use). */
function bodyOf(text: string): never {
  return Readable.from([Buffer.from(text)]) as never;
}

const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
const s3 = mockClient(client);
let store: S3Store;

beforeEach(() => {
  s3.reset();
  store = new S3Store({ bucket: 'media', client });
});
afterEach(() => s3.reset());

describe('S3Store conditional writes', () => {
  it('putIfAbsent sends If-None-Match: * and returns the new ETag', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    expect(await store.putIfAbsent('a/state.json', '{}', { contentType: 'application/json' })).toEqual({
      etag: '"e1"',
    });
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'media',
      Key: 'a/state.json',
      IfNoneMatch: '*',
      ContentType: 'application/json',
      ContentLength: 2,
    });
    expect(input.IfMatch).toBeUndefined();
  });

  it('putIfAbsent losing (412 PreconditionFailed) is a ConflictError that keeps the SDK error', async () => {
    const sdkErr = s3Error('PreconditionFailed', 412);
    s3.on(PutObjectCommand).rejects(sdkErr);
    const err = await store.putIfAbsent('a/state.json', '{}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412, retryable: false });
    expect((err as Error).cause).toBe(sdkErr);
  });

  it('putIfMatch sends If-Match with the ETag untouched', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e2"' });
    expect(await store.putIfMatch('a/state.json', '{"n":1}', '"e1"')).toEqual({ etag: '"e2"' });
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ IfMatch: '"e1"' });
  });

  it.each([
    ['412 PreconditionFailed', s3Error('PreconditionFailed', 412)],
    ['409 ConditionalRequestConflict', s3Error('ConditionalRequestConflict', 409)],
    [
      '404 NoSuchKey (the object is gone)',
      new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }),
    ],
  ])('putIfMatch answered %s is a ConflictError', async (_label, sdkErr) => {
    s3.on(PutObjectCommand).rejects(sdkErr);
    await expect(store.putIfMatch('a/state.json', '{}', '"old"')).rejects.toBeInstanceOf(ConflictError);
  });

  it('a streamed body for a conditional write goes up in one PutObject with the condition', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e3"' });
    await store.putIfAbsent('a/b.json', Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]));
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ IfNoneMatch: '*', ContentLength: 7 });
    expect(Buffer.from(input.Body as Buffer).toString()).toBe('{"a":1}');
  });
});

describe('S3Store error mapping', () => {
  it('503 SlowDown is RetryableError STORAGE_THROTTLED with the server Retry-After', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('SlowDown', 503, { headers: { 'retry-after': '3' } }));
    const err = await store.getBytes('a/b').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'STORAGE_THROTTLED', retryable: true, retryAfterMs: 3000 });
    expect(isRetryable(err)).toBe(true);
  });

  it('a Retry-After given as an HTTP-date is honoured too', async () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    s3.on(GetObjectCommand).rejects(s3Error('SlowDown', 503, { headers: { 'retry-after': inAMinute } }));
    const err = (await store.getBytes('a/b').catch((e: unknown) => e)) as RetryableError;
    expect(err).toMatchObject({ code: 'STORAGE_THROTTLED' });
    expect(err.retryAfterMs).toBeGreaterThan(50_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it.each(['ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException'])(
    '%s is STORAGE_THROTTLED with a default wait',
    async (name) => {
      s3.on(PutObjectCommand).rejects(s3Error(name, 400));
      const err = await store.put('a/b', 'x').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORAGE_THROTTLED', retryable: true, retryAfterMs: 1000 });
    },
  );

  it.each([500, 502, 503])('%i is RetryableError STORAGE_UNAVAILABLE', async (status) => {
    s3.on(HeadObjectCommand).rejects(s3Error('InternalError', status));
    const err = await store.head('a/b').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT'])(
    'network error %s is STORAGE_UNAVAILABLE',
    async (code) => {
      const netErr = Object.assign(new Error('socket trouble'), { code });
      s3.on(ListObjectsV2Command).rejects(netErr);
      const err = await store.list('a/').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
      expect((err as Error).cause).toBe(netErr);
    },
  );

  it('403 AccessDenied is STORAGE_FORBIDDEN and not retryable', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('AccessDenied', 403));
    const err = await store.getBytes('a/b').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClipseekError);
    expect(err).not.toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'STORAGE_FORBIDDEN', retryable: false });
  });

  it('NoSuchKey on read is NotFoundError; NotFound on head is undefined', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: { httpStatusCode: 404 } }));
    s3.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    await expect(store.getJson('a/b')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.getStream('a/b')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(await store.head('a/b')).toBeUndefined();
  });

  it('NoSuchBucket is a configuration problem, not a missing object', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('NoSuchBucket', 404));
    const err = await store.getBytes('a/b').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'STORAGE_BUCKET_NOT_FOUND', retryable: false });
  });
});

describe('S3Store requests', () => {
  it('getJson returns the value with the ETag of the same response', async () => {
    s3.on(GetObjectCommand).resolves({ Body: bodyOf('{"n":7}'), ETag: '"abc"' });
    expect(await store.getJson('r/state.json')).toEqual({ value: { n: 7 }, etag: '"abc"' });
  });

  it('list passes the page size and continuation token through, and stops when not truncated', async () => {
    const when = new Date('2026-01-01T00:00:00Z');
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      Contents: [{ Key: 'p/1', Size: 1, ETag: '"1"', LastModified: when }],
      IsTruncated: true,
      NextContinuationToken: 'tok-2',
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: 'tok-2' }).resolves({
      Contents: [{ Key: 'p/2', Size: 2, ETag: '"2"', LastModified: when }],
      IsTruncated: false,
    });
    const all = [];
    for await (const o of store.listAll('p/')) all.push(o);
    expect(all).toEqual([
      { key: 'p/1', size: 1, etag: '"1"', lastModified: when },
      { key: 'p/2', size: 2, etag: '"2"', lastModified: when },
    ]);
    const calls = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(calls).toEqual([
      expect.objectContaining({ Bucket: 'media', Prefix: 'p/', ContinuationToken: undefined }),
      expect.objectContaining({ Prefix: 'p/', ContinuationToken: 'tok-2' }),
    ]);
  });

  it('copy names the source as bucket/key', async () => {
    s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"c"' } });
    expect(await store.copy('a/src=1.mp4', 'b/dst.mp4')).toEqual({ etag: '"c"' });
    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'media',
      Key: 'b/dst.mp4',
      CopySource: 'media/a/src%3D1.mp4',
    });
  });

  it('a bad key is rejected before any request is sent', async () => {
    for (const call of [
      () => store.put('../escape', 'x'),
      () => store.putIfMatch('/abs', 'x', '"e"'),
      () => store.getBytes('a//b'),
      () => store.list('../'),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(InputError);
    }
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('S3Store client settings', () => {
  it('builds a client that checksums only when required, path-style when asked', async () => {
    const own = new S3Store({
      bucket: 'media',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    const config = own.client.config as unknown as Record<string, () => Promise<unknown>>;
    expect(await config.requestChecksumCalculation!()).toBe('WHEN_REQUIRED');
    expect(await config.responseChecksumValidation!()).toBe('WHEN_REQUIRED');
    expect(await config.region!()).toBe('eu-west-1');
    const url = new URL(await own.urlFor('r/clip=1.mp4', { expiresInSeconds: 120 }));
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:9000/media/r/clip%3D1.mp4');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    await own.close();
  });

  it("a function's store takes secret credentials when given, else the SDK default chain (IAM stacks)", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'FROM-THE-DEFAULT-CHAIN');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'chain-secret');
    try {
      const keyOf = async (env: NodeJS.ProcessEnv) => {
        const settings = functionSettings({ STORAGE_URL: 's3://media?region=eu-west-1', ...env });
        const runtime = await createRuntime('t', settings, env, new AbortController().signal);
        const store = runtime.store as S3Store;
        const credentials = store.client.config.credentials as () => Promise<{ accessKeyId: string }>;
        const { accessKeyId } = await credentials();
        await store.close();
        return accessKeyId;
      };
      // No secret files (an IAM stack names none, so /var/openfaas/secrets holds none) and no S3_* variables.
      expect(await keyOf({})).toBe('FROM-THE-DEFAULT-CHAIN');
      expect(await keyOf({ S3_ACCESS_KEY: 'FROM-THE-SECRET', S3_SECRET_KEY: 's' })).toBe('FROM-THE-SECRET');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
