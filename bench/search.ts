/**
 * Search latency over many analysed videos: `n` made-up video index
 * documents of `clips` 10 s clips each (test/helpers/video-index.ts; the
 * media need not exist) on a folder store in a temp dir, then the same few
 * queries searched `rounds` times each, cold listing and reads every time (as
 * the CLI and every orchestrator call do: nothing is cached). Prints p50/p95
 * per size and how they grow from the first size to the last; the growth
 * should follow the number of videos (10× the videos, about 10× the time).
 *
 *   npx tsx bench/search.ts [--videos 100,1000] [--clips 60] [--rounds 10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { search } from '../common/search/index.js';
import { FolderStore } from '../common/storage/folder-store.js';
import { mulberry32 } from '../test/helpers/seeded-random.js';
import { putIndexDocument, syntheticDocument } from '../test/helpers/video-index.js';

export interface SearchBenchOptions {
  videos: number[];
  clips: number;
  rounds: number;
  log?: (line: string) => void;
}

export interface SearchBenchResult {
  videos: number;
  clips: number;
  /** Bytes of one document (the first). */
  docBytes: number;
  p50Ms: number;
  p95Ms: number;
  searches: number;
}

/** An object, a word, and both: the shapes of query search answers. */
const QUERIES = ['a person with a dog', 'the budget', 'a car on the road'];

export async function benchSearch(options: SearchBenchOptions): Promise<SearchBenchResult[]> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'clipseek-bench-search-'));
  const store = new FolderStore(join(dir, 'bucket'));
  const results: SearchBenchResult[] = [];
  try {
    const random = mulberry32(15);
    const put = pLimit(16);
    let made = 0;
    let docBytes = 0;
    for (const n of [...options.videos].sort((a, b) => a - b)) {
      // Each size adds to the documents of the one before: the store holds exactly n videos.
      const docs = Array.from({ length: n - made }, (_, i) =>
        syntheticDocument(made + i, options.clips, random),
      );
      docBytes ||= JSON.stringify(docs[0]).length;
      await Promise.all(docs.map((d) => put(() => putIndexDocument(store, d))));
      made = n;
      const times: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        for (const query of QUERIES) {
          const started = performance.now();
          const result = await search(store, 'default', query, { limit: 20 });
          times.push(performance.now() - started);
          if (result.videos !== n) throw new Error(`searched ${result.videos} videos, expected ${n}`);
        }
      }
      times.sort((a, b) => a - b);
      const r = {
        videos: n,
        clips: options.clips,
        docBytes,
        p50Ms: quantile(times, 0.5),
        p95Ms: quantile(times, 0.95),
        searches: times.length,
      };
      log(
        `search: ${n} videos × ${r.clips} clips (${(docBytes / 1024).toFixed(0)} KiB a document): ` +
          `p50 ${r.p50Ms.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms over ${r.searches} searches`,
      );
      results.push(r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      videos: { type: 'string', default: '100,1000' },
      clips: { type: 'string', default: '60' },
      rounds: { type: 'string', default: '10' },
    },
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const results = await benchSearch({
    videos: values.videos.split(',').map(Number),
    clips: Number(values.clips),
    rounds: Number(values.rounds),
    log,
  });
  const [first, last] = [results[0]!, results.at(-1)!];
  log(
    `search summary: ${first.videos} → ${last.videos} videos (×${last.videos / first.videos}): ` +
      `p50 ${first.p50Ms.toFixed(0)} → ${last.p50Ms.toFixed(0)} ms, p95 ${first.p95Ms.toFixed(0)} → ${last.p95Ms.toFixed(0)} ms; ` +
      `growth ×${(last.p50Ms / first.p50Ms).toFixed(1)} (p50), ×${(last.p95Ms / first.p95Ms).toFixed(1)} (p95)`,
  );
}
