import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipseekError, ConflictError, InputError, RetryableError } from '../../common/errors.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { withKeyLock } from '../../common/storage/key-lock.js';

// What only the folder store has: real folders, temp files, sidecars and lock files.

let dir: string;
let root: string;
let store: FolderStore;
let n = 0;
const fresh = () => `case${++n}/`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-folder-'));
  root = join(dir, 'bucket');
  store = new FolderStore(root);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.listAll(prefix)) out.push(o.key);
  return out;
}

describe('FolderStore layout', () => {
  it('stores an object as the file at <root>/<key> and urlFor points at it', async () => {
    const p = fresh();
    await store.put(`${p}dir/file.txt`, 'hello');
    const url = await store.urlFor(`${p}dir/file.txt`);
    expect(fileURLToPath(url)).toBe(join(root, p, 'dir', 'file.txt'));
    expect(store.url).toBe(`file://${root}`);
  });

  it('lists in byte-wise key order across folders, as S3 does', async () => {
    const p = fresh();
    for (const k of ['a/b', 'a-c', 'a0', 'a/a/z', 'b', 'A']) await store.put(`${p}${k}`, k);
    expect(await keys(p)).toEqual(['A', 'a-c', 'a/a/z', 'a/b', 'a0', 'b'].map((k) => p + k));
    // Paging by last key resumes inside and after folders.
    const first = await store.list(p, { limit: 2 });
    expect(first.objects.map((o) => o.key)).toEqual([`${p}A`, `${p}a-c`]);
    const second = await store.list(p, { limit: 2, token: first.nextToken! });
    expect(second.objects.map((o) => o.key)).toEqual([`${p}a/a/z`, `${p}a/b`]);
  });

  it('never lists an upload in flight or its temp file, and lists it once complete', async () => {
    const p = fresh();
    const body = new PassThrough();
    const writing = store.put(`${p}slow.bin`, body);
    body.write(Buffer.alloc(64 * 1024, 1));
    // Wait until the temp file exists: the upload is under way…
    await expect
      .poll(() => readdir(join(root, '.clipseek', 'tmp')).catch(() => []), { timeout: 5_000 })
      .not.toEqual([]);
    expect(await keys('')).not.toContain(`${p}slow.bin`); // …but not visible
    expect((await keys('')).some((k) => k.includes('.clipseek'))).toBe(false);
    expect(await store.head(`${p}slow.bin`)).toBeUndefined();
    body.end(Buffer.alloc(10, 2));
    await writing;
    expect(await keys(p)).toEqual([`${p}slow.bin`]);
    expect((await store.head(`${p}slow.bin`))?.size).toBe(64 * 1024 + 10);
  });

  it('reserves .clipseek/ for its bookkeeping', async () => {
    for (const attempt of [() => store.put('.clipseek/x', 'x'), () => store.list('.clipseek/')]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    expect(await keys('.clip')).toEqual([]);
  });

  it('cannot hold both a and a/b: KEY_COLLISION, nothing changed', async () => {
    const p = fresh();
    await store.put(`${p}a`, 'file');
    const err = await store.put(`${p}a/b`, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'KEY_COLLISION' });
    await store.put(`${p}c/d`, 'x');
    await expect(store.put(`${p}c`, 'x')).rejects.toMatchObject({ code: 'KEY_COLLISION' });
    expect(await keys(p)).toEqual([`${p}a`, `${p}c/d`]);
  });

  it('removes folders a delete left empty, so the name is free again', async () => {
    const p = fresh();
    await store.put(`${p}x/y/z`, 'deep');
    await store.delete(`${p}x/y/z`);
    expect(await readdir(root)).not.toContain(p.slice(0, -1)); // x/y/ and x/ and the case folder went too
    await store.put(`${p}x`, 'now a file');
    expect((await store.getBytes(`${p}x`)).toString()).toBe('now a file');
  });

  it('serves files put there by hand: ETag from content, usable for compare-and-swap', async () => {
    const p = fresh();
    await mkdir(join(root, p), { recursive: true });
    await writeFile(join(root, p, 'manual.json'), '{"n":1}');
    const info = await store.head(`${p}manual.json`);
    const read = await store.getJson<{ n: number }>(`${p}manual.json`);
    expect(info?.etag).toBe(read.etag);
    expect(info?.contentType).toBe('application/octet-stream');
    expect(await keys(p)).toEqual([`${p}manual.json`]);
    await store.putIfMatch(`${p}manual.json`, '{"n":2}', read.etag);
    expect((await store.getJson(`${p}manual.json`)).value).toEqual({ n: 2 });
  });

  it('does not trust a sidecar that describes an older file (writer crashed between renames)', async () => {
    const p = fresh();
    const old = await store.put(`${p}state.json`, '{"v":1}');
    // Replace the data file behind the store's back, as a crash after the first rename would leave it.
    const tmp = join(dir, 'replacement');
    await writeFile(tmp, '{"v":2}');
    await rename(tmp, join(root, p, 'state.json'));
    const info = await store.head(`${p}state.json`);
    expect(info?.etag).not.toBe(old.etag);
    expect(info?.etag).toBe((await store.getJson(`${p}state.json`)).etag);
    await expect(store.putIfMatch(`${p}state.json`, '{"v":3}', old.etag)).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('reports stored non-JSON read with getJson as INVALID_STORED_JSON (not caller input)', async () => {
    const p = fresh();
    await store.put(`${p}bad.json`, '{not json');
    const err = await store.getJson(`${p}bad.json`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClipseekError);
    expect(err).toMatchObject({ code: 'INVALID_STORED_JSON', status: 500 });
    expect((err as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('uses the same ETag for the same bytes however they were written', async () => {
    const p = fresh();
    const a = await store.put(`${p}a`, 'same bytes');
    const body = new PassThrough();
    const b = store.put(`${p}b`, body);
    body.end('same bytes');
    expect((await b).etag).toBe(a.etag);
    expect(a.etag).toBe(createHash('sha256').update('same bytes').digest('hex').slice(0, 32));
  });
});

describe('key lock (the mutex behind conditional writes)', () => {
  it('lets one holder in at a time', async () => {
    const lock = join(dir, 'mutex.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withKeyLock(lock, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 1));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it('breaks a lock left by a process that is gone', async () => {
    const lock = join(dir, 'dead.lock');
    const { pid } = spawnSync(process.execPath, ['-e', '0']);
    await writeFile(lock, JSON.stringify({ pid, host: (await import('node:os')).hostname(), nonce: 'dead' }));
    expect(await withKeyLock(lock, async () => 'got it', { timeoutMs: 5_000 })).toBe('got it');
  });

  it('breaks a lock older than staleMs even if its process looks alive', async () => {
    const lock = join(dir, 'old.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere', nonce: 'old' }));
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(lock, hourAgo, hourAgo);
    expect(await withKeyLock(lock, async () => 'got it', { timeoutMs: 5_000 })).toBe('got it');
  });

  it('waits for a live holder, then gives up with RetryableError STORAGE_BUSY', async () => {
    const lock = join(dir, 'live.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere', nonce: 'live' }));
    const err = await withKeyLock(lock, async () => 'never', { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'STORAGE_BUSY', retryable: true });
    await rm(lock);
  });

  it('through the store: a write waits for a held key lock', async () => {
    const busy = new FolderStore(join(dir, 'busy-bucket'), { lock: { timeoutMs: 150 } });
    await busy.put('k', 'v1');
    const locks = join(dir, 'busy-bucket', '.clipseek', 'locks');
    const name = `${createHash('sha256').update('k').digest('hex')}.lock`;
    await writeFile(join(locks, name), JSON.stringify({ pid: process.pid, host: 'elsewhere', nonce: 'x' }));
    await expect(busy.put('k', 'v2')).rejects.toMatchObject({ code: 'STORAGE_BUSY' });
    expect((await busy.getBytes('k')).toString()).toBe('v1');
    await rm(join(locks, name));
    await busy.put('k', 'v2');
    expect((await busy.getBytes('k')).toString()).toBe('v2');
  });
});
