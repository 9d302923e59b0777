import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Opaque version tag; pass it back to `putIfMatch`. Never parse it. */
  etag: string;
  lastModified: Date;
  contentType?: string | undefined;
}

export interface PutOptions {
  contentType?: string;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** Present when more objects follow; pass to the next `list` call. */
  nextToken?: string | undefined;
}

export interface ListOptions {
  /** Page size; implementations may return fewer. */
  limit?: number;
  token?: string;
}

export type Body = Buffer | Uint8Array | string | Readable;

/**
 * The one storage interface. Keys are validated (see keys.ts); a bad key is an
 * InputError and touches nothing. A missing object is a NotFoundError; a lost
 * conditional write is a ConflictError; throttling and 5xx are RetryableError.
 */
export interface ObjectStore {
  /** e.g. `file:///data/bucket` or `s3://bucket?endpoint=…`: what created this store. */
  readonly url: string;
  getStream(key: string): Promise<Readable>;
  getBytes(key: string): Promise<Buffer>;
  /** Parsed JSON plus the ETag it was read at (for compare-and-swap). */
  getJson<T = unknown>(key: string): Promise<{ value: T; etag: string }>;
  put(key: string, body: Body, options?: PutOptions): Promise<{ etag: string }>;
  /** Writes only if no object exists at `key`; ConflictError otherwise. */
  putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<{ etag: string }>;
  /** Writes only if the object's current ETag is `etag`; ConflictError otherwise (also when missing). */
  putIfMatch(key: string, body: Body, etag: string, options?: PutOptions): Promise<{ etag: string }>;
  /** Metadata, or undefined when there is no object at `key`. */
  head(key: string): Promise<ObjectInfo | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /** Every object under `prefix`, across pages. */
  listAll(prefix: string): AsyncIterable<ObjectInfo>;
  copy(fromKey: string, toKey: string): Promise<{ etag: string }>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** A URL a client can fetch the object from (file:// for the folder store, presigned for S3). */
  urlFor(key: string, options?: { expiresInSeconds?: number }): Promise<string>;
  close?(): Promise<void>;
}
