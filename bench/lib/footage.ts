/**
 * Real footage for the quality benchmark (truth in bench/ground-truth.json),
 * from two Debian packages nobody on the project made:
 *
 * - opencv-doc: vtest.avi, Megamind.avi, tree.avi and box.mp4, cup.mp4 (shipped
 *   gzipped). `ensureFootage()` fetches the .deb with `apt-get download` into
 *   a temp dir (running `apt-get update` once and retrying if that fails),
 *   extracts only those five files into test/.media/opencv-doc/ (git-ignored;
 *   delete it to refetch), gunzips the .mp4s, and resolves to
 *   `{ 'vtest.avi': '/abs/path', ... }`. Nothing is fetched when all are there.
 * - pocketsphinx-testdata (install it with apt): `librivoxClips()` lists its
 *   five LibriVox clips as `{ id, audio, text }` (16 kHz wav + reference text).
 *
 * `footagePath('vtest.avi')` = `(await ensureFootage())['vtest.avi']`.
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';

const exec = promisify(execFile);

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

const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';

export interface LibrivoxClip {
  /** e.g. 'sense_and_sensibility_01_austen_64kb-0870' */
  id: string;
  /** Absolute path of the wav (16 kHz mono). */
  audio: string;
  /** Reference transcript, lower case, without <s> </s>. */
  text: string;
}

const pathOf = (name: FootageName) => join(FOOTAGE_DIR, name);

async function aptDownload(dir: string): Promise<string> {
  try {
    await exec('apt-get', ['download', 'opencv-doc'], { cwd: dir });
  } catch {
    await exec('apt-get', ['update'], { maxBuffer: 16 << 20 });
    await exec('apt-get', ['download', 'opencv-doc'], { cwd: dir });
  }
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
    const deb = await aptDownload(tmp);
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

/** The LibriVox clips of pocketsphinx-testdata with their reference transcripts. */
export function librivoxClips(): LibrivoxClip[] {
  const file = join(LIBRIVOX_DIR, 'transcription');
  if (!existsSync(file)) throw new Error(`${file} missing: apt-get install pocketsphinx-testdata`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^<s>\s*(.*?)\s*<\/s>\s*\(([^)]+)\)\s*$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, text, id]) => ({ id: id!, audio: join(LIBRIVOX_DIR, `${id}.wav`), text: text! }));
}
