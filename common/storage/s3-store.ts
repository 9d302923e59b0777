import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ConflictError, NotFoundError } from '../errors.js';
import { normalizeBody, parseStoredJson, readAll } from './body.js';
import { assertValidKey, assertValidPrefix } from './keys.js';
import { listAllPages } from './list-all.js';
import { mapS3Error } from './s3-errors.js';
import type { Body, ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions } from './types.js';

export interface S3StoreOptions {
  bucket: string;
  /** A ready client (tests, custom middleware). When given, the connection options below are ignored. */
  client?: S3Client;
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`http://host/bucket/key`): MinIO and most S3-compatible servers need it. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts the SDK makes (with backoff) before an error reaches us. Default 3. */
  maxAttempts?: number;
  /** Reported as `store.url`; defaults to `s3://<bucket>`. */
  url?: string;
}

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const DEFAULT_PAGE = 1000;
const PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_URL_TTL_SECONDS = 3600;

/**
 * The ObjectStore on S3 or an S3-compatible server (MinIO, …). Conditional
 * writes use PutObject `If-None-Match: *` / `If-Match: <etag>`; ETags are the
 * server's, passed through untouched.
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly ownsClient: boolean;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.url = options.url ?? `s3://${options.bucket}`;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new S3Client(clientConfig(options));
  }

  async getStream(key: string): Promise<Readable> {
    const res = await this.send(
      () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: assertValidKey(key) })),
      'get',
      key,
    );
    return toReadable(res.Body);
  }

  async getBytes(key: string): Promise<Buffer> {
    return (await this.getWithEtag(key)).bytes;
  }

  async getJson<T = unknown>(key: string): Promise<{ value: T; etag: string }> {
    const { bytes, etag } = await this.getWithEtag(key);
    return { value: parseStoredJson<T>(key, bytes), etag };
  }

  put(key: string, body: Body, options?: PutOptions): Promise<{ etag: string }> {
    return this.write(key, body, options, {});
  }

  putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<{ etag: string }> {
    return this.write(key, body, options, { IfNoneMatch: '*' });
  }

  async putIfMatch(key: string, body: Body, etag: string, options?: PutOptions): Promise<{ etag: string }> {
    try {
      return await this.write(key, body, options, { IfMatch: etag });
    } catch (err) {
      // S3 answers If-Match on a missing object with 404: for compare-and-swap that is a lost race.
      if (err instanceof NotFoundError) {
        throw new ConflictError(`object changed (missing): ${key}`, { details: { key }, cause: err });
      }
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    try {
      const res = await this.send(
        () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
        'head',
        key,
      );
      return {
        key,
        size: res.ContentLength ?? 0,
        etag: res.ETag ?? '',
        lastModified: res.LastModified ?? new Date(0),
        contentType: res.ContentType,
      };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    assertValidPrefix(prefix);
    const res = await this.send(
      () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix === '' ? undefined : prefix,
            MaxKeys: Math.max(1, options.limit ?? DEFAULT_PAGE),
            ContinuationToken: options.token,
          }),
        ),
      'list',
      prefix,
    );
    const objects: ObjectInfo[] = (res.Contents ?? []).map((o) => ({
      key: o.Key ?? '',
      size: o.Size ?? 0,
      etag: o.ETag ?? '',
      lastModified: o.LastModified ?? new Date(0),
    }));
    return { objects, nextToken: res.IsTruncated ? res.NextContinuationToken : undefined };
  }

  listAll(prefix: string): AsyncIterable<ObjectInfo> {
    return listAllPages(this, prefix);
  }

  async copy(fromKey: string, toKey: string): Promise<{ etag: string }> {
    assertValidKey(fromKey);
    assertValidKey(toKey);
    const res = await this.send(
      () =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: toKey,
            // Keys are validated to URL-safe characters apart from these few.
            CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
          }),
        ),
      'copy',
      fromKey,
    );
    return { etag: res.CopyObjectResult?.ETag ?? '' };
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.send(
      () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      'delete',
      key,
    );
  }

  async urlFor(key: string, options: { expiresInSeconds?: number } = {}): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: options.expiresInSeconds ?? DEFAULT_URL_TTL_SECONDS,
    });
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  // ---- internals ----

  private async getWithEtag(key: string): Promise<{ bytes: Buffer; etag: string }> {
    assertValidKey(key);
    return this.send(
      async () => {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return { bytes: await readAll(toReadable(res.Body)), etag: res.ETag ?? '' };
      },
      'get',
      key,
    );
  }

  /**
   * Buffers go up in one PutObject. Streams go through lib-storage's Upload
   * (multipart above one part) — except conditional writes, which are small
   * JSON documents and are buffered so the condition rides on one PutObject.
   */
  private async write(
    key: string,
    body: Body,
    options: PutOptions | undefined,
    condition: Pick<PutObjectCommandInput, 'IfMatch' | 'IfNoneMatch'>,
  ): Promise<{ etag: string }> {
    assertValidKey(key);
    const conditional = condition.IfMatch !== undefined || condition.IfNoneMatch !== undefined;
    const normalized = normalizeBody(body);
    const params = {
      Bucket: this.bucket,
      Key: key,
      ContentType: options?.contentType ?? DEFAULT_CONTENT_TYPE,
      ...condition,
    };
    return this.send(
      async () => {
        if (normalized instanceof Readable && !conditional) {
          const upload = new Upload({
            client: this.client,
            params: { ...params, Body: normalized },
            partSize: PART_SIZE,
            queueSize: 2,
          });
          const res = await upload.done();
          return { etag: res.ETag ?? '' };
        }
        const bytes = normalized instanceof Readable ? await readAll(normalized) : normalized;
        const res = await this.client.send(
          new PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.length }),
        );
        return { etag: res.ETag ?? '' };
      },
      'put',
      key,
    );
  }

  private async send<T>(call: () => Promise<T>, operation: string, key: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw mapS3Error(err, { operation, key });
    }
  }
}

function clientConfig(options: S3StoreOptions): S3ClientConfig {
  return {
    region: options.region ?? 'us-east-1',
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    forcePathStyle: options.forcePathStyle ?? false,
    maxAttempts: options.maxAttempts ?? 3,
    // Default checksums make the SDK send streamed bodies aws-chunked; several
    // S3-compatible servers store that framing verbatim. Only checksum when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

function toReadable(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (body && typeof (body as { transformToWebStream?: unknown }).transformToWebStream === 'function') {
    return Readable.fromWeb(
      (
        body as { transformToWebStream: () => import('node:stream/web').ReadableStream }
      ).transformToWebStream(),
    );
  }
  if (body instanceof Uint8Array || typeof body === 'string') return Readable.from([Buffer.from(body)]);
  return Readable.from([]);
}
