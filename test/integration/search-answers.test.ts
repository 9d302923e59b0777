import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentCache, search } from '../../common/search/index.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { mulberry32 } from '../helpers/seeded-random.js';
import { putIndexDocument, variedDocument } from '../helpers/video-index.js';

/**
 * The answers search gives on seeded, irregular documents (gaps, ties, repeated
 * analyses, words that stem alike) are pinned in a file written by the first
 * implementation: making search faster must not change one of them.
 */
const QUERIES = [
  'a person with a dog',
  'the budget',
  'a car on the road',
  '"red car"',
  'budgets and cups',
  'bicycle meeting late',
  'ice cream',
  'cars',
  'nothing zzz here',
];

let dir: string;
let store: FolderStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clipseek-search-answers-'));
  store = new FolderStore(join(dir, 'bucket'));
  const random = mulberry32(42);
  // Videos 3 and 7 are analysed twice: search picks one analysis of each.
  const docs = Array.from({ length: 14 }, (_, n) =>
    variedDocument(n, random, n >= 12 ? 3 + (n - 12) * 4 : n),
  );
  // One document breaks its schema deep inside: it is skipped, with the same reason.
  const broken = variedDocument(14, random);
  broken.clips[1]!.end = broken.clips[1]!.start - 1;
  await Promise.all([...docs, broken].map((d) => putIndexDocument(store, d)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('search answers stay what they were', () => {
  it('gives the pinned answers to every query, with and without a small limit', async () => {
    const lines: string[] = [];
    for (const query of QUERIES) {
      for (const limit of [3, 25]) {
        const { matches, ...rest } = await search(store, 'default', query, { limit });
        // One answer a line: a change shows as the lines it changes.
        lines.push(JSON.stringify({ limit, ...rest }), ...matches.map((m) => JSON.stringify(m)));
      }
    }
    await expect(`${lines.join('\n')}\n`).toMatchFileSnapshot('../fixtures/search-answers.jsonl');
  });

  it('gives the same answers from a cache as cold, filling it and then from it', async () => {
    const cache = new DocumentCache(64 * 1024 ** 2);
    for (const query of QUERIES) {
      const cold = await search(store, 'default', query, { limit: 25 });
      expect(await search(store, 'default', query, { limit: 25, cache })).toEqual(cold);
      expect(await search(store, 'default', query, { limit: 25, cache })).toEqual(cold);
    }
    expect(cache.bytes).toBeGreaterThan(0);
  });
});
