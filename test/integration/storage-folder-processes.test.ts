import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../../common/storage/folder-store.js';

// Compare-and-swap across real processes: the folder store's conditional
// writes must hold between separate Node processes, not just within one.

const PROCESSES = 8;
const INCREMENTS = 25;

let dir: string;
let workerScript: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-cas-'));
  workerScript = join(dir, 'worker.mjs');
  // One bundle, run with plain node: far faster to start than tsx per child.
  await build({
    entryPoints: [join(import.meta.dirname, '..', 'helpers', 'folder-store-worker.ts')],
    outfile: workerScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Worker {
  child: ChildProcess;
  lines: Interface;
  next(): Promise<string>;
}

function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, [workerScript, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  const exited = new Promise<string>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`))),
  );
  exited.catch(() => undefined);
  return {
    child,
    lines,
    next: () =>
      Promise.race([
        new Promise<string>((resolve) => {
          const line = queue.shift();
          if (line !== undefined) resolve(line);
          else waiting.push(resolve);
        }),
        exited,
      ]),
  };
}

/** Starts every worker, waits until all are ready, releases them at once, returns their results. */
async function runTogether<T>(argsList: string[][]): Promise<T[]> {
  const workers = argsList.map(startWorker);
  try {
    await Promise.all(workers.map(async (w) => expect(await w.next()).toBe('ready')));
    for (const w of workers) w.child.stdin!.write('go\n');
    return await Promise.all(workers.map(async (w) => JSON.parse(await w.next()) as T));
  } finally {
    for (const w of workers) {
      w.lines.close();
      w.child.stdin!.end();
    }
  }
}

describe('folder store: conditional writes across processes', () => {
  it(`${PROCESSES} processes x ${INCREMENTS} read-modify-write increments lose no update`, async () => {
    const root = join(dir, 'counter-bucket');
    const store = new FolderStore(root);
    await store.put('counters/shared.json', JSON.stringify({ n: 0 }), { contentType: 'application/json' });

    const results = await runTogether<{ conflicts: number }>(
      Array.from({ length: PROCESSES }, () => [
        'increment',
        root,
        'counters/shared.json',
        String(INCREMENTS),
      ]),
    );

    const { value } = await store.getJson<{ n: number }>('counters/shared.json');
    expect(value.n).toBe(PROCESSES * INCREMENTS);
    // The processes did overlap: some compare-and-swaps lost and were retried.
    const conflicts = results.reduce((sum, r) => sum + r.conflicts, 0);
    expect(conflicts).toBeGreaterThan(0);
    // Nothing left behind: no temp files, no locks.
    expect(await readdir(join(root, '.clipseek', 'tmp'))).toEqual([]);
    expect(await readdir(join(root, '.clipseek', 'locks'))).toEqual([]);
  });

  it(`of ${PROCESSES} processes racing putIfAbsent on one key exactly one wins`, async () => {
    const root = join(dir, 'race-bucket');
    const ids = Array.from({ length: PROCESSES }, (_, i) => `writer-${i}`);
    const results = await runTogether<{ won: boolean }>(ids.map((id) => ['create', root, 'claims/once', id]));

    const winners = ids.filter((_, i) => results[i]!.won);
    expect(winners).toHaveLength(1);
    expect((await new FolderStore(root).getBytes('claims/once')).toString()).toBe(winners[0]);
  });
});
