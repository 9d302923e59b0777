/**
 * Temp dirs whose process died (a crash or SIGKILL skips withTempDir's
 * `finally`) are removed when a function process starts, and only those.
 * Real child processes own the dirs and real signals end them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegRunner, startFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { currentTempDirOwner, type TempDirOwner, tempDirPrefix } from '../../common/ffmpeg/temp-dirs.js';
import { isRunning } from '../helpers/processes.js';

const REPO = resolve(import.meta.dirname, '../..');
const WORKER = join(REPO, 'test/helpers/temp-dir-worker.ts');
const MEDIA_FUNCTIONS = ['extract-audio', 'cut-clips', 'transcode-clip', 'sample-frames'];

let root: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clipseek-temp-dirs-test-'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Starts `node --import tsx script args`; resolves with the child once `ready(line)` holds for a line of `stream`. */
function start(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stream: 'stdout' | 'stderr'; ready: (line: string) => boolean },
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolveStart, reject) => {
    createInterface({ input: child[options.stream]! }).on('line', (line) => {
      if (options.ready(line)) resolveStart({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** A process holding a temp dir the real runner made in `root` (with a 1 MiB file in it). */
async function holder(): Promise<{ child: ChildProcess; dir: string }> {
  const { child, line } = await start(WORKER, [root], { stream: 'stdout', ready: () => true });
  return { child, dir: line };
}

async function killed(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  expect(await isRunning(child.pid!)).toBe(false);
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A dir named as `owner`'s runner would name it. */
async function dirOf(owner: TempDirOwner, suffix: string): Promise<string> {
  const dir = join(root, `${tempDirPrefix(owner)}${suffix}`);
  await mkdir(dir);
  return dir;
}

describe('temp dirs of dead processes', () => {
  it('are removed when a runner starts; those of live processes stay', async () => {
    const [dead, live] = await Promise.all([holder(), holder()]);
    expect(await exists(dead.dir)).toBe(true);
    await killed(dead.child);
    expect(await exists(dead.dir)).toBe(true); // the leak: SIGKILL skipped the cleanup

    await startFfmpegRunner({ env: {}, tmpDir: root });
    expect(await exists(dead.dir)).toBe(false);
    expect(await exists(live.dir)).toBe(true);
  });

  it('a reused pid is not taken for the owner; a dir from an earlier boot is dead', async () => {
    const self = currentTempDirOwner();
    const live = await holder();
    const reused = await dirOf({ ...self, pid: live.child.pid!, start: '1' }, 'reused');
    const earlierBoot = await dirOf({ ...self, boot: 'feedf00d', pid: self.pid }, 'oldbut');

    await startFfmpegRunner({ env: {}, tmpDir: root });
    expect(await exists(reused)).toBe(false);
    expect(await exists(earlierBoot)).toBe(false);
    expect(await exists(live.dir)).toBe(true);
  });

  it('leaves what it cannot judge: another pid namespace, names it did not make, its own dirs in use', async () => {
    const self = currentTempDirOwner();
    const otherNamespace = await dirOf({ ...self, pidNamespace: 'abcdef01', pid: 999_999_999 }, 'nsdir1');
    const notOurs = join(root, 'clipseek-ffmpeg-Ab12Cd');
    await mkdir(notOurs);
    const runner = createFfmpegRunner({ env: {}, tmpDir: root });
    await runner.withTempDir(async (inUse) => {
      await startFfmpegRunner({ env: {}, tmpDir: root });
      expect(await exists(inUse)).toBe(true);
    });
    expect(await exists(otherNamespace)).toBe(true);
    expect(await exists(notOurs)).toBe(true);
  });

  it.each(MEDIA_FUNCTIONS)('the %s function removes them when its process starts', async (name) => {
    const dead = await holder();
    await killed(dead.child);
    const fn = await start(join(REPO, 'functions', name, 'handler.ts'), [], {
      env: {
        STORAGE_URL: `file://${join(root, 'bucket')}`,
        PORT: '0',
        FFMPEG_TMP_DIR: root,
        LOG_LEVEL: 'info',
      },
      stream: 'stderr',
      ready: (line) => line.includes(`"${name} listening"`),
    });
    expect(await exists(dead.dir)).toBe(false);
    fn.child.kill('SIGTERM');
  });
});
