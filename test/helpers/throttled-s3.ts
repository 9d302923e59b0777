/**
 * An in-memory S3 bucket behind a mocked S3Client (aws-sdk-client-mock) that
 * answers a seeded fraction of calls with 503 SlowDown, as S3 does under load.
 * It enforces If-None-Match / If-Match like S3, so the S3Store's
 * compare-and-swap is real. A throttled call changes nothing.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3Store } from '../../common/storage/s3-store.js';
import { mulberry32 } from './seeded-random.js';

interface StoredObject {
  body: Buffer;
  etag: string;
  contentType: string;
  lastModified: Date;
}

export interface ThrottledS3 {
  store: S3Store;
  /** Fraction of calls answered with 503 SlowDown; change it at any time (0 = none). */
  rate: number;
  /** SlowDowns answered so far. */
  throttled(): number;
  /** Successful writes per key. */
  writes: Map<string, number>;
  objects: Map<string, StoredObject>;
  restore(): void;
}

export function throttledS3(options: { bucket: string; rate: number; seed: number }): ThrottledS3 {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
  });
  const mock = mockClient(client);
  const objects = new Map<string, StoredObject>();
  const writes = new Map<string, number>();
  const random = mulberry32(options.seed);
  let throttled = 0;
  const state: ThrottledS3 = {
    store: new S3Store({ bucket: options.bucket, client }),
    rate: options.rate,
    throttled: () => throttled,
    writes,
    objects,
    restore: () => mock.restore(),
  };

  const slowDown = () => {
    if (random() >= state.rate) return;
    throttled += 1;
    throw s3Error('SlowDown', 503, 'Please reduce your request rate.');
  };
  const found = (key: string): StoredObject => {
    const object = objects.get(key);
    if (!object) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
    return object;
  };
  const store = (key: string, body: Buffer, contentType: string | undefined) => {
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    objects.set(key, {
      body,
      etag,
      contentType: contentType ?? 'application/octet-stream',
      lastModified: new Date(),
    });
    writes.set(key, (writes.get(key) ?? 0) + 1);
    return { ETag: etag };
  };

  mock.on(PutObjectCommand).callsFake(async (input) => {
    slowDown();
    const existing = objects.get(input.Key);
    if (input.IfNoneMatch === '*' && existing) throw s3Error('PreconditionFailed', 412, 'exists');
    if (input.IfMatch !== undefined) {
      if (!existing) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
      if (existing.etag !== input.IfMatch) throw s3Error('PreconditionFailed', 412, 'etag changed');
    }
    return store(input.Key, await bodyBytes(input.Body), input.ContentType);
  });
  mock.on(GetObjectCommand).callsFake((input) => {
    slowDown();
    const object = found(input.Key);
    return {
      Body: Readable.from([object.body]),
      ETag: object.etag,
      ContentLength: object.body.length,
      ContentType: object.contentType,
    };
  });
  mock.on(HeadObjectCommand).callsFake((input) => {
    slowDown();
    const object = objects.get(input.Key);
    if (!object) throw s3Error('NotFound', 404, 'Not Found');
    return {
      ETag: object.etag,
      ContentLength: object.body.length,
      ContentType: object.contentType,
      LastModified: object.lastModified,
    };
  });
  mock.on(ListObjectsV2Command).callsFake((input) => {
    slowDown();
    const keys = [...objects.keys()]
      .filter(
        (k) => k.startsWith(input.Prefix ?? '') && (!input.ContinuationToken || k > input.ContinuationToken),
      )
      .sort();
    const page = keys.slice(0, input.MaxKeys ?? 1000);
    const truncated = keys.length > page.length;
    return {
      Contents: page.map((Key) => ({
        Key,
        Size: objects.get(Key)!.body.length,
        ETag: objects.get(Key)!.etag,
        LastModified: objects.get(Key)!.lastModified,
      })),
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: page.at(-1) } : {}),
    };
  });
  mock.on(CopyObjectCommand).callsFake((input) => {
    slowDown();
    const from = decodeURIComponent(String(input.CopySource).slice(`${options.bucket}/`.length));
    const source = found(from);
    return { CopyObjectResult: { ETag: store(input.Key, source.body, source.contentType).ETag } };
  });
  mock.on(DeleteObjectCommand).callsFake((input) => {
    slowDown();
    objects.delete(input.Key);
    return {};
  });
  return state;
}

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new Error(`unexpected PutObject body: ${typeof body}`);
}
