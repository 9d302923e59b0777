import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ConflictError, InputError, NotFoundError } from '../errors.js';
import { normalizeBody, parseStoredJson } from './body.js';
import { walkKeys } from './folder-walk.js';
import { isCode, type KeyLockOptions, withKeyLock } from './key-lock.js';
import { assertValidKey, assertValidPrefix } from './keys.js';
import { listAllPages } from './list-all.js';
import type { Body, ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions } from './types.js';

/** The store's own bookkeeping lives here, inside the bucket folder; keys may not start with it. */
const INTERNAL_DIR = '.clipseek';
const DEFAULT_PAGE = 1000;
/** Objects a listing looks up at once. */
const HEADS_AT_ONCE = 16;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface FolderStoreOptions {
  /** fsync each object before publishing it (durable across power loss; slower). Default false. */
  fsync?: boolean;
  lock?: KeyLockOptions;
}

/** What the sidecar file records about one object version. */
interface Sidecar {
  etag: string;
  contentType: string;
  size: number;
  /** Identity of the data file this sidecar describes: a mismatch means it is out of date. */
  ino: number;
  mtimeMs: number;
}

type Precondition = { kind: 'none' } | { kind: 'absent' } | { kind: 'match'; etag: string };

/**
 * The embedded object store: a bucket is a folder, an object is the file at
 * `<root>/<key>` (so `urlFor` gives a plain file:// URL).
 *
 * - Writes go to a temp file (in `<root>/.clipseek/tmp`, same file system),
 *   then one rename publishes them: readers see the old or the new object, never a mix.
 * - ETag = sha-256 of the content, computed while writing and while reading,
 *   so the ETag `getJson` returns always belongs to the bytes it returned.
 * - Every write of a key publishes under a per-key lock file (O_EXCL), held for
 *   milliseconds, which makes create-if-absent and replace-if-match real
 *   compare-and-swap across processes.
 * - A sidecar (`<root>/.clipseek/meta/…`) keeps content type and ETag for head/list.
 *
 * Limitation of a folder: it cannot hold both `a` and `a/b` (InputError KEY_COLLISION).
 */
export class FolderStore implements ObjectStore {
  readonly url: string;
  readonly root: string;
  private readonly fsync: boolean;
  private readonly lockOptions: KeyLockOptions;

  constructor(rootDir: string, options: FolderStoreOptions = {}) {
    this.root = resolve(rootDir);
    this.url = pathToFileURL(this.root).href;
    this.fsync = options.fsync ?? false;
    this.lockOptions = options.lock ?? {};
  }

  async getStream(key: string): Promise<Readable> {
    const handle = await this.openObject(key);
    return handle.createReadStream();
  }

  async getBytes(key: string): Promise<Buffer> {
    const handle = await this.openObject(key);
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async getJson<T = unknown>(key: string): Promise<{ value: T; etag: string }> {
    const bytes = await this.getBytes(key);
    return { value: parseStoredJson<T>(key, bytes), etag: etagOf(bytes) };
  }

  put(key: string, body: Body, options?: PutOptions): Promise<{ etag: string }> {
    return this.write(key, body, options, { kind: 'none' });
  }

  putIfAbsent(key: string, body: Body, options?: PutOptions): Promise<{ etag: string }> {
    return this.write(key, body, options, { kind: 'absent' });
  }

  putIfMatch(key: string, body: Body, etag: string, options?: PutOptions): Promise<{ etag: string }> {
    return this.write(key, body, options, { kind: 'match', etag });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.dataPath(key);
    const info = await statFile(path);
    if (!info) return undefined;
    const meta = await this.sidecarFor(key, path, info);
    if (!meta) return undefined;
    return { key, size: meta.size, etag: meta.etag, lastModified: info.mtime, contentType: meta.contentType };
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    this.checkPrefix(prefix);
    const limit = Math.max(1, options.limit ?? DEFAULT_PAGE);
    const objects: ObjectInfo[] = [];
    let keys: string[] = [];
    // Heads of a batch of keys at once (each is a stat and a sidecar read), kept in key order.
    const headBatch = async () => {
      const infos = await Promise.all(keys.map((key) => this.head(key)));
      keys = [];
      for (const info of infos) if (info) objects.push(info); // undefined if deleted since the walk saw it
    };
    for await (const key of walkKeys(this.root, prefix, options.token, INTERNAL_DIR)) {
      if (objects.length + keys.length === limit) await headBatch();
      if (objects.length === limit) {
        // One more key exists, so there is a next page; the token is the last key returned.
        return { objects, nextToken: objects[objects.length - 1]!.key };
      }
      keys.push(key);
      if (keys.length === HEADS_AT_ONCE) await headBatch();
    }
    await headBatch();
    return { objects };
  }

  listAll(prefix: string): AsyncIterable<ObjectInfo> {
    return listAllPages(this, prefix);
  }

  async copy(fromKey: string, toKey: string): Promise<{ etag: string }> {
    this.dataPath(toKey); // validate before reading anything
    const source = await this.head(fromKey);
    if (!source) throw notFound(fromKey);
    const stream = await this.getStream(fromKey);
    return this.write(
      toKey,
      stream,
      { contentType: source.contentType ?? DEFAULT_CONTENT_TYPE },
      { kind: 'none' },
    );
  }

  async delete(key: string): Promise<void> {
    const path = this.dataPath(key);
    await this.ensureInternalDirs();
    await withKeyLock(
      this.lockPath(key),
      async () => {
        await unlink(path).catch((err) => {
          if (!isCode(err, 'ENOENT') && !isCode(err, 'EISDIR') && !isCode(err, 'ENOTDIR')) throw err;
        });
        await unlink(this.sidecarPath(key)).catch(() => undefined);
      },
      this.lockOptions,
    );
    await this.removeEmptyParents(dirname(path));
  }

  async urlFor(key: string): Promise<string> {
    return pathToFileURL(this.dataPath(key)).href;
  }

  // ---- internals ----

  /** Validates the key and maps it to its data file. */
  private dataPath(key: string): string {
    assertValidKey(key);
    if (key === INTERNAL_DIR || key.startsWith(`${INTERNAL_DIR}/`)) {
      throw new InputError('INVALID_KEY', `invalid object key: '${INTERNAL_DIR}/' is reserved`, {
        details: { key },
      });
    }
    return join(this.root, ...key.split('/'));
  }

  private checkPrefix(prefix: string): void {
    assertValidPrefix(prefix);
    if (prefix.startsWith(`${INTERNAL_DIR}/`)) {
      throw new InputError('INVALID_KEY', `invalid prefix: '${INTERNAL_DIR}/' is reserved`, {
        details: { prefix },
      });
    }
  }

  private get internalDir(): string {
    return join(this.root, INTERNAL_DIR);
  }

  private keyHash(key: string): string {
    return createHash('sha256').update(key).digest('hex');
  }

  private sidecarPath(key: string): string {
    const h = this.keyHash(key);
    return join(this.internalDir, 'meta', h.slice(0, 2), `${h}.json`);
  }

  private lockPath(key: string): string {
    return join(this.internalDir, 'locks', `${this.keyHash(key)}.lock`);
  }

  private tmpPath(): string {
    return join(this.internalDir, 'tmp', `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  private async ensureInternalDirs(): Promise<void> {
    await mkdir(join(this.internalDir, 'tmp'), { recursive: true });
    await mkdir(join(this.internalDir, 'locks'), { recursive: true });
  }

  private async openObject(key: string) {
    const path = this.dataPath(key);
    try {
      const handle = await open(path, 'r');
      // Opening a folder succeeds on Linux; reading it would fail with EISDIR.
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw notFound(key);
      }
      return handle;
    } catch (err) {
      if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR') || isCode(err, 'EISDIR')) throw notFound(key, err);
      throw err;
    }
  }

  /**
   * Streams the body to a temp file (hashing it on the way), then publishes it
   * under the key lock if the precondition holds. The slow part — the upload —
   * happens outside the lock.
   */
  private async write(
    key: string,
    body: Body,
    options: PutOptions | undefined,
    precondition: Precondition,
  ): Promise<{ etag: string }> {
    const path = this.dataPath(key);
    const contentType = options?.contentType ?? DEFAULT_CONTENT_TYPE;
    await this.ensureInternalDirs();
    const tmp = this.tmpPath();
    try {
      const { etag, size } = await this.writeTemp(tmp, normalizeBody(body));
      await withKeyLock(
        this.lockPath(key),
        async () => {
          await this.checkPrecondition(key, path, precondition);
          await this.publish(key, tmp, path);
          const info = await stat(path);
          await this.writeSidecar(key, { etag, contentType, size, ino: info.ino, mtimeMs: info.mtimeMs });
        },
        this.lockOptions,
      );
      return { etag };
    } finally {
      await unlink(tmp).catch(() => undefined); // gone already when published
    }
  }

  private async writeTemp(tmp: string, body: Buffer | Readable): Promise<{ etag: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    if (Buffer.isBuffer(body)) {
      hash.update(body);
      size = body.length;
      await writeFile(tmp, body, { flag: 'wx', flush: this.fsync });
    } else {
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(body, tap, createWriteStream(tmp, { flags: 'wx', flush: this.fsync }));
    }
    return { etag: hash.digest('hex').slice(0, 32), size };
  }

  private async checkPrecondition(key: string, path: string, pre: Precondition): Promise<void> {
    if (pre.kind === 'none') return;
    const info = await statFile(path);
    if (pre.kind === 'absent') {
      if (info) throw new ConflictError(`object already exists: ${key}`, { details: { key } });
      return;
    }
    const current = info ? await this.sidecarFor(key, path, info) : undefined;
    if (!current || current.etag !== pre.etag) {
      throw new ConflictError(`object changed (ETag mismatch): ${key}`, {
        details: { key, expected: pre.etag, actual: current?.etag ?? null },
      });
    }
  }

  /** rename(2) into place, creating parent folders (a concurrent delete may remove them again). */
  private async publish(key: string, tmp: string, path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dirname(path), { recursive: true });
        await rename(tmp, path);
        return;
      } catch (err) {
        if (isCode(err, 'ENOENT') && attempt < 5) continue;
        if (
          isCode(err, 'EISDIR') ||
          isCode(err, 'ENOTDIR') ||
          isCode(err, 'EEXIST') ||
          isCode(err, 'ENOTEMPTY')
        ) {
          throw new InputError(
            'KEY_COLLISION',
            `key collides with a folder or object on its path (a folder cannot hold both 'a' and 'a/b'): ${key}`,
            { details: { key }, cause: err },
          );
        }
        throw err;
      }
    }
  }

  private async writeSidecar(key: string, meta: Sidecar): Promise<void> {
    const path = this.sidecarPath(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = this.tmpPath();
    await writeFile(tmp, JSON.stringify(meta), { flag: 'wx' });
    await rename(tmp, path);
  }

  /**
   * The sidecar if it describes the current data file; otherwise (a writer
   * crashed between its two renames, or is between them now) the ETag is
   * recomputed from the content.
   */
  private async sidecarFor(
    key: string,
    path: string,
    info: Awaited<ReturnType<typeof stat>>,
  ): Promise<Sidecar | undefined> {
    const raw = await readFile(this.sidecarPath(key), 'utf8').catch(() => undefined);
    const meta = raw === undefined ? undefined : tryParse(raw);
    if (
      meta &&
      meta.ino === Number(info.ino) &&
      meta.size === Number(info.size) &&
      meta.mtimeMs === Number(info.mtimeMs)
    ) {
      return meta;
    }
    try {
      const bytes = await readFile(path);
      return {
        etag: etagOf(bytes),
        contentType: meta?.contentType ?? DEFAULT_CONTENT_TYPE,
        size: bytes.length,
        ino: Number(info.ino),
        mtimeMs: Number(info.mtimeMs),
      };
    } catch (err) {
      if (isCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** S3 has no folders: drop the ones a delete left empty (rmdir fails on non-empty ones). */
  private async removeEmptyParents(dir: string): Promise<void> {
    let current = dir;
    while (current !== this.root && current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = dirname(current);
    }
  }
}

function etagOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

function tryParse(raw: string): Sidecar | undefined {
  try {
    return JSON.parse(raw) as Sidecar;
  } catch {
    return undefined;
  }
}

async function statFile(path: string) {
  try {
    const info = await stat(path);
    return info.isFile() ? info : undefined;
  } catch (err) {
    if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

function notFound(key: string, cause?: unknown): NotFoundError {
  return new NotFoundError('NOT_FOUND', `no object at key: ${key}`, {
    details: { key },
    ...(cause === undefined ? {} : { cause }),
  });
}
