import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { got, TimeoutError as HttpTimeoutError } from 'got';
import {
  CancelledError,
  ClipseekError,
  InputError,
  NotFoundError,
  RetryableError,
  TimeoutError,
} from '../../common/errors.js';
import { isPipelineKey, PIPELINE_PREFIXES } from '../../common/keys.js';
import { assertUrlAllowed, guardedLookup, type NetPolicy } from '../../common/net-policy.js';
import { assertValidKey } from '../../common/storage/keys.js';
import type { ObjectStore } from '../../common/storage/types.js';

/**
 * Where a request's video comes from:
 *   store://<key>          an object in our bucket (the CLI uploads local files there)
 *   s3://<bucket>/<key>    the same, when <bucket> is our bucket
 *   http(s)://…            fetched, under the network policy, redirects checked hop by hop
 * Anything else (file://, ftp://, gopher://, a bare path) is refused.
 */
export type SourceRef = { kind: 'store'; key: string } | { kind: 'http'; url: URL };

const MEDIA_EXTENSIONS = new Set([
  '.mp4',
  '.mov',
  '.m4v',
  '.mkv',
  '.webm',
  '.avi',
  '.ts',
  '.flv',
  '.mpg',
  '.mpeg',
]);

export async function parseSource(
  uri: string,
  storeBucket: string | undefined,
  policy: NetPolicy,
): Promise<SourceRef> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'store') return { kind: 'store', key: keyOf(uri.slice('store://'.length)) };
  if (scheme === 's3') {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!match) throw new InputError('UNSUPPORTED_SOURCE', 's3 URIs look like s3://bucket/key');
    if (match[1] !== storeBucket) {
      throw new InputError('UNSUPPORTED_SOURCE', `bucket ${match[1]} is not the configured bucket`, {
        details: { bucket: match[1] },
      });
    }
    return { kind: 'store', key: keyOf(match[2]!) };
  }
  if (scheme === 'http' || scheme === 'https') {
    return { kind: 'http', url: await assertUrlAllowed(uri, policy, 'SOURCE_REFUSED') };
  }
  throw new InputError('UNSUPPORTED_SOURCE_SCHEME', 'video_uri must be store://, s3:// or http(s)://', {
    details: { scheme: scheme ?? null },
  });
}

function keyOf(raw: string): string {
  let key: string;
  try {
    key = assertValidKey(decodeURIComponent(raw));
  } catch (err) {
    throw new InputError('INVALID_SOURCE_KEY', 'video_uri names an invalid object key', { cause: err });
  }
  if (isPipelineKey(key)) {
    throw new InputError(
      'SOURCE_REFUSED',
      `video_uri names an object the pipeline keeps for itself (${PIPELINE_PREFIXES.join(', ')}); upload the video first`,
      { details: { key } },
    );
  }
  return key;
}

/** The request's copy of its source: requests/{id}/input/source.<ext>. */
export function inputFileName(ref: SourceRef): string {
  const path = ref.kind === 'store' ? ref.key : ref.url.pathname;
  const ext = extname(path).toLowerCase();
  return `source${MEDIA_EXTENSIONS.has(ext) ? ext : '.mp4'}`;
}

/** Checks what can be checked before anything is written: the object exists and is not empty. */
export async function precheckSource(store: ObjectStore, ref: SourceRef): Promise<void> {
  if (ref.kind !== 'store') return;
  const info = await store.head(ref.key);
  if (!info)
    throw new NotFoundError('SOURCE_NOT_FOUND', `no object ${ref.key}`, { details: { key: ref.key } });
  if (info.size === 0) throw new InputError('EMPTY_INPUT', 'the video is empty (0 bytes)');
}

export interface CopyOptions {
  policy: NetPolicy;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects?: number;
  /** Aborting stops the copy (the lease was lost, or the process is stopping): a CancelledError. */
  signal?: AbortSignal;
}

/** What was copied: the bytes' sha256 (hex), computed as they streamed into the bucket, and their count. */
export interface CopiedBytes {
  sha256: string;
  size_bytes: number;
}

/**
 * Copies the source into `destKey`, hashing the bytes on their way (the
 * bucket's copy is never read back). A copy that fails, whatever stopped it
 * (too large, encoded, a timeout, the source gone mid-way, empty), is removed
 * again — except when stopped by `signal`: then another driver may own the key.
 */
export async function copySource(
  store: ObjectStore,
  ref: SourceRef,
  destKey: string,
  opts: CopyOptions,
): Promise<CopiedBytes> {
  try {
    const copied =
      ref.kind === 'store'
        ? // Streamed through rather than copied inside the bucket: the hash needs the bytes.
          // An object of our own bucket was checked when it was put there: no size limit.
          await streamInto(store, await store.getStream(ref.key), destKey, Number.POSITIVE_INFINITY)
        : await fetchInto(store, ref.url, destKey, opts);
    if (copied.size_bytes === 0) throw new InputError('EMPTY_INPUT', 'the video is empty (0 bytes)');
    return copied;
  } catch (err) {
    if (opts.signal?.aborted) throw new CancelledError('copying the source was stopped', { cause: err });
    // Best effort: the failure is what the caller needs to hear, not a failed delete.
    await store.delete(destKey).catch(() => undefined);
    throw ref.kind === 'http' ? sourceError(err, ref.url) : err;
  }
}

/** The source's file name: the last segment of its key or URL path (decoded), else the request's input name. */
export function sourceName(ref: SourceRef): string {
  const path = ref.kind === 'store' ? ref.key : ref.url.pathname;
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (ref.kind === 'store') return last || inputFileName(ref);
  try {
    return decodeURIComponent(last) || inputFileName(ref);
  } catch {
    return last; // not valid percent-encoding: the name as it is
  }
}

async function fetchInto(
  store: ObjectStore,
  first: URL,
  destKey: string,
  opts: CopyOptions,
): Promise<CopiedBytes> {
  let url = first;
  for (let hop = 0; ; hop++) {
    const stream = got.stream(url, {
      followRedirect: false,
      throwHttpErrors: false,
      timeout: { request: opts.timeoutMs },
      retry: { limit: 0 },
      dnsLookup: guardedLookup(opts.policy, 'SOURCE_REFUSED') as never,
      // Media is compressed already: HTTP compression gains nothing and decoding it lets a
      // small answer expand without bound (a 203 KB gzip answer became 201 MB). Ask for the
      // bytes as they are, never decode, and refuse an answer that is encoded anyway.
      decompress: false,
      headers: { 'accept-encoding': 'identity' },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const response = await new Promise<{ statusCode: number; headers: Record<string, unknown> }>(
      (resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', reject);
      },
    ).catch((err: unknown) => {
      throw sourceError(err, url);
    });
    if (
      response.statusCode >= 300 &&
      response.statusCode < 400 &&
      typeof response.headers.location === 'string'
    ) {
      stream.destroy();
      if (hop >= (opts.maxRedirects ?? 3)) throw new InputError('SOURCE_REFUSED', 'too many redirects');
      // Every hop is checked again: a redirect to a metadata address is refused like a direct one.
      url = await assertUrlAllowed(
        new URL(response.headers.location, url).toString(),
        opts.policy,
        'SOURCE_REFUSED',
      );
      continue;
    }
    if (response.statusCode !== 200) {
      stream.destroy();
      const Err = response.statusCode >= 500 ? RetryableError : InputError;
      throw new Err('SOURCE_FETCH_FAILED', `fetching the video answered ${response.statusCode}`, {
        details: { status: response.statusCode },
      });
    }
    const encoding = String(response.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      stream.destroy();
      throw new InputError(
        'UNSUPPORTED_CONTENT_ENCODING',
        `the source was sent with content-encoding ${encoding}; a video must be sent as it is`,
        { details: { content_encoding: encoding } },
      );
    }
    const declared = Number(response.headers['content-length'] ?? Number.NaN);
    if (declared > opts.maxBytes) {
      stream.destroy();
      throw new InputError('SOURCE_TOO_LARGE', `the video is larger than ${opts.maxBytes} bytes`);
    }
    // What stopped the source (a timeout, a reset) is the cause, not how the store reports it.
    let sourceFailure: unknown;
    stream.on('error', (err) => {
      sourceFailure ??= err;
    });
    return await streamInto(store, stream, destKey, opts.maxBytes).catch((err: unknown) => {
      throw sourceFailure ?? err;
    });
  }
}

/** What a failed fetch means: refused by the policy at connect time, too slow, or unreachable. */
function sourceError(err: unknown, url: URL): ClipseekError {
  if (err instanceof ClipseekError) return err;
  // guardedLookup refuses an address through the DNS callback: got wraps that error.
  if (err instanceof Error && err.cause instanceof ClipseekError) return err.cause;
  if (err instanceof HttpTimeoutError) {
    return new TimeoutError('SOURCE_TIMEOUT', `fetching ${url.host} took too long`, { cause: err });
  }
  return new RetryableError('SOURCE_UNREACHABLE', `could not fetch ${url.host}`, { cause: err });
}

/** Puts `source` at `destKey`, counting and hashing the bytes as they pass; past `maxBytes` it stops (SOURCE_TOO_LARGE). */
async function streamInto(
  store: ObjectStore,
  source: NodeJS.ReadableStream,
  destKey: string,
  maxBytes: number,
): Promise<CopiedBytes> {
  const hash = createHash('sha256');
  let seen = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(new InputError('SOURCE_TOO_LARGE', `the video is larger than ${maxBytes} bytes`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  pipeline(source, meter).catch((err: unknown) => {
    if (!(err instanceof ClipseekError)) meter.destroy(err as Error);
  });
  await store.put(destKey, meter);
  return { sha256: hash.digest('hex'), size_bytes: seen };
}
