/**
 * Real photographs for detection tests: the sample images Debian ships in
 * `python3-skimage`. The package is only downloaded and unpacked
 * (`apt-get download` + `dpkg-deb -x`), never installed; the images are cached
 * in test/.media/python3-skimage/ (git-ignored) and published with one rename,
 * so parallel test files share one copy.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const CACHE_DIR = join(fileURLToPath(new URL('../.media/', import.meta.url)), 'python3-skimage');
const DATA_IN_PACKAGE = 'usr/lib/python3/dist-packages/skimage/data';

/** The photographs the tests use, as absolute paths. */
export interface Photos {
  /** Eileen Collins in her spacesuit: a person. */
  astronaut: string;
  /** A motorcycle in a garage (left image of a stereo pair). */
  motorcycle: string;
  /** A cup of coffee on a saucer. */
  coffee: string;
}

const FILES: Record<keyof Photos, string> = {
  astronaut: 'astronaut.png',
  motorcycle: 'motorcycle_left.png',
  coffee: 'coffee.png',
};

export async function skimagePhotos(): Promise<Photos> {
  if (!(await exists(join(CACHE_DIR, FILES.astronaut)))) await fetchPackageImages();
  const photos = Object.fromEntries(
    Object.entries(FILES).map(([name, file]) => [name, join(CACHE_DIR, file)]),
  ) as unknown as Photos;
  for (const path of Object.values(photos)) {
    if (!(await exists(path))) throw new Error(`python3-skimage no longer ships ${path}`);
  }
  return photos;
}

async function fetchPackageImages(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'clipseek-skimage-'));
  try {
    try {
      await exec('apt-get', ['download', 'python3-skimage'], { cwd: work });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`apt-get download python3-skimage failed (run apt-get update?): ${stderr.trim()}`, {
        cause: err,
      });
    }
    const deb = (await readdir(work)).find((f) => f.startsWith('python3-skimage_') && f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download left no python3-skimage .deb');
    await exec('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
    // Publish the data folder in one rename; if another test file won the race, keep theirs.
    await mkdir(join(CACHE_DIR, '..'), { recursive: true });
    const staged = `${CACHE_DIR}.${randomBytes(4).toString('hex')}`;
    // The temp dir may be on another file system, where rename fails: copy next to the cache instead.
    await rename(join(work, 'root', DATA_IN_PACKAGE), staged).catch(() =>
      exec('cp', ['-r', join(work, 'root', DATA_IN_PACKAGE), staged]),
    );
    await rename(staged, CACHE_DIR).catch(async () => {
      await rm(staged, { recursive: true, force: true });
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
