import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InputError, NotFoundError } from '../../common/errors.js';
import type { ObjectInfo, ObjectStore } from '../../common/storage/types.js';

export interface ContractSubject {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /**
   * Whether the backend enforces If-None-Match / If-Match. s3rver does not
   * (it accepts and overwrites), so the S3 store's conflict handling is
   * covered by the aws-sdk-client-mock suite (test/unit/storage-s3.test.ts).
   */
  enforcesConditionalWrites: boolean;
}

const BAD_KEYS = [
  '',
  '/abs/key',
  'a/../b',
  '..',
  'a//b',
  'a/./b',
  'trailing/',
  'back\\slash',
  'sp ace',
  'new\nline',
];
const MB = 1024 * 1024;

/** A stream of `size` bytes in chunks, so the store sees a real stream with no known length. */
function chunkedStream(data: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
    })(),
  );
}

async function hashStream(stream: Readable): Promise<{ sha: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha: hash.digest('hex'), size };
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of iterable) keys.push(o.key);
  return keys;
}

/** Bytes behind `urlFor`: a file:// path or an http(s) (presigned) URL. */
async function fetchUrl(url: string): Promise<Buffer> {
  if (url.startsWith('file:')) return readFile(fileURLToPath(url));
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} -> ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The one ObjectStore contract, run against every implementation. */
export function describeObjectStoreContract(
  name: string,
  makeSubject: () => Promise<ContractSubject>,
  options: ContractOptions,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ObjectStore;
    let n = 0;
    /** A fresh prefix per test: tests share one bucket but never each other's keys. */
    const fresh = () => `t${++n}-${randomBytes(3).toString('hex')}/`;

    beforeAll(async () => {
      subject = await makeSubject();
      store = subject.store;
    });
    afterAll(async () => {
      await store?.close?.();
      await subject?.cleanup();
    });

    it('round-trips Buffer, string and Uint8Array bodies', async () => {
      const p = fresh();
      const bin = randomBytes(1000);
      await store.put(`${p}buf`, bin);
      await store.put(`${p}str`, 'héllo wörld');
      await store.put(`${p}u8`, new Uint8Array([1, 2, 3, 255]));
      expect(await store.getBytes(`${p}buf`)).toEqual(bin);
      expect((await store.getBytes(`${p}str`)).toString('utf8')).toBe('héllo wörld');
      expect([...(await store.getBytes(`${p}u8`))]).toEqual([1, 2, 3, 255]);
      expect(await store.getBytes(`${p}str`)).toEqual(Buffer.from('héllo wörld'));
    });

    it('round-trips a 20 MB streamed body byte-exact', async () => {
      const p = fresh();
      const data = randomBytes(20 * MB);
      const want = createHash('sha256').update(data).digest('hex');
      const { etag } = await store.put(`${p}big.bin`, chunkedStream(data), { contentType: 'video/mp4' });
      expect(etag).not.toBe('');
      const got = await hashStream(await store.getStream(`${p}big.bin`));
      expect(got).toEqual({ sha: want, size: data.length });
      const info = await store.head(`${p}big.bin`);
      expect(info?.size).toBe(data.length);
      expect(info?.contentType).toBe('video/mp4');
    });

    it('keeps the content type and reports size, ETag and time in head', async () => {
      const p = fresh();
      const before = Date.now();
      const { etag } = await store.put(`${p}doc.json`, '{"a":1}', { contentType: 'application/json' });
      const info = await store.head(`${p}doc.json`);
      expect(info).toMatchObject({ key: `${p}doc.json`, size: 7, etag, contentType: 'application/json' });
      expect(info!.lastModified.getTime()).toBeGreaterThan(before - 5_000);
      await store.put(`${p}plain`, 'x');
      expect((await store.head(`${p}plain`))?.contentType).toBe('application/octet-stream');
    });

    it('getJson returns the value with the ETag head reports', async () => {
      const p = fresh();
      const { etag } = await store.put(`${p}state.json`, JSON.stringify({ n: 41, s: 'x' }));
      const got = await store.getJson<{ n: number; s: string }>(`${p}state.json`);
      expect(got).toEqual({ value: { n: 41, s: 'x' }, etag });
      expect((await store.head(`${p}state.json`))?.etag).toBe(etag);
    });

    it('overwrites with put, and the ETag changes with the content', async () => {
      const p = fresh();
      const first = await store.put(`${p}k`, 'one');
      const second = await store.put(`${p}k`, 'two');
      expect(second.etag).not.toBe(first.etag);
      expect((await store.getBytes(`${p}k`)).toString()).toBe('two');
    });

    it('maps a missing object to NotFoundError NOT_FOUND (and head to undefined)', async () => {
      const key = `${fresh()}missing`;
      for (const read of [() => store.getBytes(key), () => store.getJson(key), () => store.getStream(key)]) {
        const err = await read().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NotFoundError);
        expect(err).toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false });
      }
      expect(await store.head(key)).toBeUndefined();
      await expect(store.copy(key, `${key}-copy`)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('rejects bad keys with InputError INVALID_KEY and writes nothing', async () => {
      const p = fresh();
      await store.put(`${p}ok`, 'ok');
      const before = await collect(store.listAll(''));
      for (const bad of BAD_KEYS) {
        const attempts: Array<() => Promise<unknown>> = [
          () => store.put(bad, 'x'),
          () => store.put(bad, Readable.from([Buffer.from('x')])),
          () => store.putIfAbsent(bad, 'x'),
          () => store.putIfMatch(bad, 'x', 'etag'),
          () => store.getBytes(bad),
          () => store.getStream(bad),
          () => store.head(bad),
          () => store.copy(`${p}ok`, bad),
          () => store.copy(bad, `${p}copy`),
          () => store.delete(bad),
          () => store.urlFor(bad),
          () => store.list(`${bad}/x/`),
        ];
        for (const attempt of attempts) {
          const err = await attempt().catch((e: unknown) => e);
          expect(err, `key ${JSON.stringify(bad)}`).toBeInstanceOf(InputError);
          expect(err).toMatchObject({ code: 'INVALID_KEY', status: 422 });
        }
      }
      expect(await collect(store.listAll(''))).toEqual(before);
    });

    it('lists by prefix in key order, over several pages', async () => {
      const p = fresh();
      const keys = Array.from({ length: 25 }, (_, i) => `${p}items/${String(i).padStart(3, '0')}.txt`);
      // Written out of order, plus neighbours the prefix must not match.
      for (const key of [...keys].reverse()) await store.put(key, key);
      await store.put(`${p}items-other/x`, 'x');
      await store.put(`${p}itemsx`, 'x');

      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await store.list(`${p}items/`, { limit: 10, ...(token ? { token } : {}) });
        pages.push(page.objects.map((o) => o.key));
        token = page.nextToken;
      } while (token !== undefined && pages.length < 10);
      expect(pages.map((pg) => pg.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(keys);

      const all = await collect(store.listAll(`${p}items/`));
      expect(all).toEqual(keys);
      const page = await store.list(`${p}items/`, { limit: 30 });
      expect(page.nextToken).toBeUndefined();
      expect(page.objects[0]).toMatchObject({ key: keys[0], size: keys[0]!.length });
      expect(page.objects[0]!.etag).not.toBe('');
    });

    it('matches partial prefixes across folders', async () => {
      const p = fresh();
      for (const k of ['a/b', 'a-c', 'a0', 'a/a/z', 'b']) await store.put(`${p}${k}`, k);
      // Set comparison: s3rver orders across folders its own way (real S3 and the
      // folder store are byte-wise; the folder store's order is checked in its own suite).
      expect((await collect(store.listAll(p))).sort()).toEqual(
        ['a-c', 'a/a/z', 'a/b', 'a0', 'b'].map((k) => p + k),
      );
      expect((await collect(store.listAll(`${p}a`))).sort()).toEqual(
        ['a-c', 'a/a/z', 'a/b', 'a0'].map((k) => p + k),
      );
      expect(await collect(store.listAll(`${p}a/`))).toHaveLength(2);
      expect(await collect(store.listAll(`${p}zzz`))).toEqual([]);
    });

    it('copies an object with its bytes and content type, leaving the source', async () => {
      const p = fresh();
      const data = randomBytes(5000);
      await store.put(`${p}src.bin`, data, { contentType: 'image/jpeg' });
      const { etag } = await store.copy(`${p}src.bin`, `${p}dst/copy.bin`);
      expect(etag).not.toBe('');
      expect(await store.getBytes(`${p}dst/copy.bin`)).toEqual(data);
      expect((await store.head(`${p}dst/copy.bin`))?.contentType).toBe('image/jpeg');
      expect(await store.getBytes(`${p}src.bin`)).toEqual(data);
    });

    it('deletes, and deleting a missing key is fine', async () => {
      const p = fresh();
      await store.put(`${p}deep/er/k`, 'x');
      await store.delete(`${p}deep/er/k`);
      expect(await store.head(`${p}deep/er/k`)).toBeUndefined();
      await expect(store.getBytes(`${p}deep/er/k`)).rejects.toBeInstanceOf(NotFoundError);
      await store.delete(`${p}deep/er/k`);
      await store.delete(`${p}never-there`);
      expect(await collect(store.listAll(p))).toEqual([]);
    });

    it('gives a URL the object can be fetched from', async () => {
      const p = fresh();
      const data = randomBytes(2048);
      await store.put(`${p}media/clip.mp4`, data, { contentType: 'video/mp4' });
      const url = await store.urlFor(`${p}media/clip.mp4`, { expiresInSeconds: 300 });
      expect(await fetchUrl(url)).toEqual(data);
    });

    it('putIfAbsent creates a missing object; putIfMatch replaces at the current ETag', async () => {
      const p = fresh();
      const created = await store.putIfAbsent(`${p}cas.json`, '{"n":1}', { contentType: 'application/json' });
      const read = await store.getJson<{ n: number }>(`${p}cas.json`);
      expect(read).toEqual({ value: { n: 1 }, etag: created.etag });
      const replaced = await store.putIfMatch(`${p}cas.json`, '{"n":2}', read.etag, {
        contentType: 'application/json',
      });
      expect(replaced.etag).not.toBe(created.etag);
      expect(await store.getJson(`${p}cas.json`)).toEqual({ value: { n: 2 }, etag: replaced.etag });
      expect((await store.head(`${p}cas.json`))?.contentType).toBe('application/json');
    });

    // Registered only for backends that enforce conditions (see ContractOptions).
    if (options.enforcesConditionalWrites) {
      describe('conditional-write conflicts', () => {
        it('putIfAbsent on an existing key is a ConflictError and keeps the object', async () => {
          const p = fresh();
          await store.put(`${p}k`, 'first');
          const err = await store.putIfAbsent(`${p}k`, 'second').catch((e: unknown) => e);
          expect(err).toBeInstanceOf(ConflictError);
          expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412, retryable: false });
          expect((await store.getBytes(`${p}k`)).toString()).toBe('first');
        });

        it('putIfMatch with a stale ETag is a ConflictError and keeps the newer object', async () => {
          const p = fresh();
          const v1 = await store.put(`${p}k`, 'v1');
          await store.put(`${p}k`, 'v2');
          const err = await store.putIfMatch(`${p}k`, 'v3', v1.etag).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(ConflictError);
          expect((await store.getBytes(`${p}k`)).toString()).toBe('v2');
        });

        it('putIfMatch on a missing key is a ConflictError and creates nothing', async () => {
          const p = fresh();
          const { etag } = await store.put(`${p}gone`, 'x');
          await store.delete(`${p}gone`);
          await expect(store.putIfMatch(`${p}gone`, 'y', etag)).rejects.toBeInstanceOf(ConflictError);
          expect(await store.head(`${p}gone`)).toBeUndefined();
        });

        it('of two concurrent putIfAbsent calls exactly one wins', async () => {
          const p = fresh();
          const results = await Promise.allSettled(
            Array.from({ length: 6 }, (_, i) => store.putIfAbsent(`${p}once`, `writer-${i}`)),
          );
          const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          expect(won).toHaveLength(1);
          for (const r of results) {
            if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
          }
          expect((await store.getBytes(`${p}once`)).toString()).toBe(`writer-${won[0]}`);
        });
      });
    }
  });
}
