/** Shared set-up for the media stage tests: a real folder store, a real ffmpeg runner, a quiet logger. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFfmpegRunner, type FfmpegRunner } from '../../common/ffmpeg/runner.js';
import { createLogger } from '../../common/logger.js';
import type { StageContext } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import type { ObjectStore } from '../../common/storage/types.js';

export interface MediaStageHarness {
  dir: string;
  store: FolderStore;
  ffmpeg: FfmpegRunner;
  /** Deps for runStageOnce / stage.run: the context plus the given ffmpeg runner (default the real one). */
  deps(ffmpeg?: FfmpegRunner): StageContext & { ffmpeg: FfmpegRunner };
  cleanup(): Promise<void>;
}

export async function mediaStageHarness(): Promise<MediaStageHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'clipseek-media-test-'));
  const store = new FolderStore(join(dir, 'bucket'));
  const ffmpeg = createFfmpegRunner({ env: {}, tmpDir: dir });
  const logger = createLogger({ name: 'media-test', level: 'silent' });
  return {
    dir,
    store,
    ffmpeg,
    deps: (runner = ffmpeg) => ({
      store,
      logger,
      signal: new AbortController().signal,
      now: () => new Date(),
      ffmpeg: runner,
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Wraps a runner and counts the processes it starts (dependency injection, no child_process mocks). */
export function countingRunner(inner: FfmpegRunner): { runner: FfmpegRunner; calls: () => number } {
  let calls = 0;
  return {
    runner: {
      run: (args, options) => {
        calls += 1;
        return inner.run(args, options);
      },
      probe: (file, options) => {
        calls += 1;
        return inner.probe(file, options);
      },
      probeLines: (file, options) => {
        calls += 1;
        return inner.probeLines(file, options);
      },
      withTempDir: (fn) => inner.withTempDir(fn),
    },
    calls: () => calls,
  };
}

/** Every key under `prefix`, sorted. */
export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(prefix)) keys.push(info.key);
  return keys.sort();
}
