/**
 * Real footage for the quality benchmark (truth in bench/ground-truth.json),
 * from two Debian packages nobody on the project made:
 *
 * - opencv-doc: vtest.avi, Megamind.avi, tree.avi and box.mp4, cup.mp4 (shipped
 *   gzipped). `ensureFootage()` fetches the .deb with `apt-get download` into
 *   a temp dir (refreshing the package lists once when needed),
 *   extracts only those five files into test/.media/opencv-doc/ (git-ignored;
 *   delete it to refetch), gunzips the .mp4s, and resolves to
 *   `{ 'vtest.avi': '/abs/path', ... }`. Nothing is fetched when all are there.
 * - pocketsphinx-testdata (scripts/setup.sh installs it): its LibriVox clips
 *   and reference transcripts are listed by `librivoxClips()` in test/helpers/speech.ts.
 *
 * `footagePath('vtest.avi')` = `(await ensureFootage())['vtest.avi']`.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { aptDownload } from '../../cli/sample-video.js';

export const FOOTAGE_DIR = fileURLToPath(new URL('../../test/.media/opencv-doc/', import.meta.url));
const DOC = './usr/share/doc/opencv-doc';
/** Where each video sits inside the opencv-doc package (the .gz ones are unpacked). */
const MEMBERS = {
  'vtest.avi': `${DOC}/examples/data/vtest.avi`,
  'Megamind.avi': `${DOC}/examples/data/Megamind.avi`,
  'tree.avi': `${DOC}/examples/data/tree.avi`,
  'box.mp4': `${DOC}/opencv4/html/box.mp4.gz`,
  'cup.mp4': `${DOC}/opencv4/html/cup.mp4.gz`,
} as const;
export type FootageName = keyof typeof MEMBERS;
export const FOOTAGE_NAMES = Object.keys(MEMBERS) as FootageName[];

const pathOf = (name: FootageName) => join(FOOTAGE_DIR, name);

/** The opencv-doc .deb, downloaded (not installed) into `dir`. */
async function downloadOpencvDoc(dir: string): Promise<string> {
  await aptDownload('opencv-doc', dir);
  const deb = (await readdir(dir)).find((f) => f.startsWith('opencv-doc_') && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download opencv-doc left no .deb in ${dir}`);
  return join(dir, deb);
}

/** `dpkg-deb --fsys-tarfile deb | tar -x -C dir members...` */
function extract(deb: string, dir: string, members: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const dpkg = spawn('dpkg-deb', ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'inherit'] });
    const tar = spawn('tar', ['-x', '-C', dir, ...members], { stdio: ['pipe', 'ignore', 'inherit'] });
    dpkg.stdout.pipe(tar.stdin);
    const done = (what: string) => (code: number | null) => {
      if (code !== 0) reject(new Error(`${what} exited with ${code}`));
      else if (dpkg.exitCode === 0 && tar.exitCode === 0) resolve();
    };
    dpkg.on('error', reject).on('close', done('dpkg-deb --fsys-tarfile'));
    tar.on('error', reject).on('close', done('tar -x'));
  });
}

export async function ensureFootage(): Promise<Record<FootageName, string>> {
  const paths = Object.fromEntries(FOOTAGE_NAMES.map((n) => [n, pathOf(n)])) as Record<FootageName, string>;
  const missing = FOOTAGE_NAMES.filter((n) => !existsSync(pathOf(n)));
  if (missing.length === 0) return paths;
  await mkdir(FOOTAGE_DIR, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'clipseek-opencv-doc-'));
  try {
    const deb = await downloadOpencvDoc(tmp);
    await extract(
      deb,
      tmp,
      missing.map((n) => MEMBERS[n]),
    );
    for (const name of missing) {
      const src = join(tmp, MEMBERS[name]);
      const part = `${pathOf(name)}.part-${process.pid}`;
      if (src.endsWith('.gz')) await pipeline(createReadStream(src), createGunzip(), createWriteStream(part));
      else await pipeline(createReadStream(src), createWriteStream(part)); // tmp may be another filesystem
      await rename(part, pathOf(name));
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return paths;
}

export async function footagePath(name: FootageName): Promise<string> {
  return (await ensureFootage())[name];
}
