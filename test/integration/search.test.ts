import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SearchResult } from '../../common/contracts/video-index.js';
import { videoIndexKeys } from '../../common/keys.js';
import { rankRanges, understandQuery } from '../../common/matching/index.js';
import { eachVideo, search } from '../../common/search/index.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { type ClipSpec, indexDocument, putIndexDocument, specEvidence } from '../helpers/video-index.js';

let dir: string;
let store: FolderStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'clipseek-search-'));
  store = new FolderStore(join(dir, 'bucket'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const streetClips: ClipSpec[] = [
  { start: 0, end: 10, labels: { car: 0.9 } },
  { start: 10, end: 20, labels: { car: 0.9, person: 0.8 } },
];
const street = indexDocument({ name: 'street.mp4', clips: streetClips });
const parking = indexDocument({ name: 'parking.mp4', clips: [{ start: 0, end: 10, labels: { car: 0.6 } }] });
const talk = indexDocument({
  name: 'talk.mp4',
  clips: [{ start: 0, end: 10, words: ['we', 'talked', 'about', 'the', 'budget'] }],
});
const all = () => Promise.all([street, parking, talk].map((d) => putIndexDocument(store, d)));

/** Every key a store was asked to read or list. */
function watched(inner: ObjectStore): { store: ObjectStore; touched: string[] } {
  const touched: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (key: string, ...rest: unknown[]) => {
        touched.push(`${String(prop)} ${key}`);
        return value.call(target, key, ...rest);
      };
    },
  });
  return { store, touched };
}

describe('search: ranked ranges across the analysed videos, from their index documents', () => {
  it('ranks answers of several videos together; each names its video and carries a request match’s evidence', async () => {
    await all();
    const result = await search(store, 'default', 'a car with a person', { limit: 10 });
    expect(SearchResult.parse(result)).toEqual(result);
    expect(result.videos).toBe(3);
    expect(result.matches.map((m) => [m.video.name, m.start, m.end, m.found])).toEqual([
      ['street.mp4', 10, 20, ['car', 'person']],
      ['street.mp4', 0, 10, ['car']],
      ['parking.mp4', 0, 10, ['car']],
    ]);
    expect(result.matches[0]!.video).toEqual({
      name: 'street.mp4',
      uri: 'store://uploads/street.mp4',
      sha256: street.video.sha256,
      duration_s: 20,
    });
    // What a request on the same video would answer, match for match.
    const asRequest = rankRanges(
      understandQuery('a car with a person'),
      specEvidence({ name: 'street.mp4', clips: streetClips }),
      {
        frameIntervalS: 1,
      },
    );
    const { video: _v, analysis, ...first } = result.matches[0]!;
    expect(first).toEqual(asRequest[0]);
    expect(analysis).toBe(street.analysis);
    expect(first.thumbnail_key).toMatch(/^requests\/r_\w+\/sample-frames\/1\//);
  });

  it('finds words heard as well as objects seen, and keeps only the best `limit`', async () => {
    await all();
    const said = await search(store, 'default', 'the budget', { limit: 10 });
    expect(said.matches.map((m) => [m.video.name, m.why.words.map((w) => w.word)])).toEqual([
      ['talk.mp4', ['budget']],
    ]);
    const one = await search(store, 'default', 'cars', { limit: 1 });
    expect(one.matches.map((m) => m.video.name)).toEqual(['street.mp4']);
  });

  it('a video analysed several times is searched once, by its best coverage, then its newest analysis', async () => {
    const at = (day: number) => `2026-11-${day}T10:00:00.000Z`;
    const full = (day: number, score: number) =>
      indexDocument({
        name: 'v.mp4',
        created_at: at(day),
        clips: [{ start: 0, end: 10, labels: { car: score } }],
      });
    const partial = indexDocument({
      name: 'v.mp4',
      created_at: at(28),
      unanalysedS: 10,
      clips: [{ start: 0, end: 10, labels: { car: 0.5 } }],
    });
    const older = full(20, 0.4);
    const newer = full(25, 0.7);
    for (const d of [older, newer, partial]) await putIndexDocument(store, d);
    const result = await search(store, 'default', 'car', { limit: 10 });
    expect(result.videos).toBe(1);
    expect(result.matches.map((m) => [m.analysis, m.score])).toEqual([[newer.analysis, 0.7]]);
  });

  it('searches only the videos named, by sha256, name or URI; an unknown one is VIDEO_NOT_FOUND', async () => {
    await all();
    const names = async (videos: string[]) =>
      (await search(store, 'default', 'car', { limit: 10, videos })).matches.map((m) => m.video.name);
    expect(await names([parking.video.sha256])).toEqual(['parking.mp4']);
    expect(await names(['parking.mp4', 'store://uploads/street.mp4'])).toEqual(['street.mp4', 'parking.mp4']);
    await expect(
      search(store, 'default', 'car', { limit: 10, videos: ['street.mp4', 'nope.mp4'] }),
    ).rejects.toMatchObject({
      code: 'VIDEO_NOT_FOUND',
      status: 404,
      details: { videos: ['nope.mp4'] },
    });
  });

  it('reads only the index documents of its namespace, never manifests; a sha256 list reads only those', async () => {
    await all();
    await putIndexDocument(
      store,
      indexDocument({ name: 'street.mp4', namespace: 'tenant-b', clips: streetClips }),
    );
    await store.put('requests/r_x/cut-clips/manifest.json', '{}');
    const { store: spy, touched } = watched(store);
    const result = await search(spy, 'default', 'car', { limit: 10, videos: [parking.video.sha256] });
    expect(result.videos).toBe(1);
    expect(touched).toEqual([
      `listAll ${videoIndexKeys('default').prefix}`,
      `getJson ${videoIndexKeys('default').document(parking.video.sha256, parking.analysis)}`,
    ]);
    expect((await search(store, 'tenant-b', 'car', { limit: 10 })).videos).toBe(1);
    expect((await search(store, 'tenant-c', 'car', { limit: 10 })).videos).toBe(0);
  });
});

describe('search: a document it cannot use is skipped, with a warning, never fatal', () => {
  it('skips unreadable, schema-breaking, misplaced, stray and oversized documents and answers from the rest', async () => {
    await putIndexDocument(store, street);
    const keys = videoIndexKeys('default');
    const other = (n: number) => String(n).repeat(64);
    const big = indexDocument({
      name: 'big.mp4',
      clips: Array.from({ length: 40 }, (_, i) => ({
        start: i * 10,
        end: i * 10 + 10,
        labels: { car: 0.99 },
      })),
    });
    const evil = indexDocument({ name: 'evil.mp4', clips: streetClips });
    for (const c of evil.clips) c.frames_prefix = '../../etc/';
    const hostile: Array<[string, string | object, string]> = [
      [keys.document(other(1), other(1)), '{"schema_version": 1, "clips": [', 'INDEX_DOCUMENT_CORRUPT'],
      [keys.document(other(2), other(2)), { ...street, clips: 'all of them' }, 'INDEX_DOCUMENT_INVALID'],
      [
        keys.document(other(3), other(3)),
        { ...street, clips: [{ ...street.clips[0], start: 50, end: 5 }] },
        'INDEX_DOCUMENT_INVALID',
      ],
      [
        keys.document(other(4), other(4)),
        { ...street, video: { ...street.video, name: 'x'.repeat(5000) } },
        'INDEX_DOCUMENT_INVALID',
      ],
      [keys.document(other(5), other(5)), [1, 2, 3], 'INDEX_DOCUMENT_INVALID'],
      // A valid document copied under another video's key would answer for that video.
      [keys.document(other(6), street.analysis), street, 'INDEX_DOCUMENT_MISPLACED'],
      [
        keys.document(street.video.sha256, other(7)),
        { ...street, namespace: 'tenant-b' },
        'INDEX_DOCUMENT_MISPLACED',
      ],
      [`${keys.prefix}stray.json`, street, 'INDEX_KEY_INVALID'],
      [keys.document(big.video.sha256, big.analysis), big, 'INDEX_DOCUMENT_TOO_LARGE'],
      // Frame keys are rebuilt from a prefix: one that climbs out of the bucket names no object.
      [keys.document(evil.video.sha256, evil.analysis), evil, 'INDEX_DOCUMENT_INVALID'],
    ];
    for (const [key, body] of hostile)
      await store.put(key, typeof body === 'string' ? body : JSON.stringify(body));
    const warned: string[] = [];
    const { store: spy, touched } = watched(store);
    const result = await search(spy, 'default', 'car', {
      limit: 10,
      maxDocumentBytes: 20_000,
      onSkip: (s) => warned.push(s.code),
    });
    expect(result.videos).toBe(1);
    expect(result.matches.map((m) => m.video.name)).toEqual(['street.mp4']);
    expect(Object.fromEntries(result.skipped.map((s) => [s.key, s.code]))).toEqual(
      Object.fromEntries(hostile.map(([key, , code]) => [key, code])),
    );
    expect(warned.sort()).toEqual(hostile.map(([, , code]) => code).sort());
    // The oversized one is never read.
    expect(touched).not.toContain(`getJson ${keys.document(big.video.sha256, big.analysis)}`);
    const listed: string[] = [];
    await eachVideo(store, 'default', { maxDocumentBytes: 20_000 }, ({ doc }) => listed.push(doc.video.name));
    expect(listed).toEqual(['street.mp4']);
  });
});
