import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ClipseekError } from '../common/errors.js';

const exec = promisify(execFile);

/**
 * The demo's sample video, made on the spot: a test pattern with three
 * spoken sentences (espeak-ng) and a real photograph of a motorcycle on
 * screen for a known span, so "find the motorbike" has one right answer and
 * a word query ("weather") another. The photo is the one Debian ships in
 * python3-skimage: downloaded (not installed) with apt-get, cached in
 * <cacheDir>.
 */
export interface SampleSpec {
  durationS: number;
  width: number;
  height: number;
  fps: number;
  utterances: ReadonlyArray<{ text: string; atS: number }>;
  /** When the motorcycle is on screen. */
  photo: { fromS: number; toS: number };
  voice: { name: string; wordsPerMinute: number; wordGap10ms: number };
}

export const SAMPLE: SampleSpec = {
  durationS: 18,
  width: 640,
  height: 360,
  fps: 25,
  utterances: [
    { text: 'welcome to the clip seek demo', atS: 1 },
    { text: 'here comes a motorcycle', atS: 7 },
    { text: 'the weather today is sunny and warm', atS: 13 },
  ],
  /** When the motorcycle is on screen. */
  photo: { fromS: 6, toS: 11 },
  voice: { name: 'en-us+klatt2', wordsPerMinute: 150, wordGap10ms: 10 },
};

export interface SampleVideo {
  path: string;
  /** True when an up-to-date file was already there. */
  reused: boolean;
  description: string;
}

const PHOTO = 'motorcycle_left.png';
const PHOTO_IN_PACKAGE = `./usr/lib/python3/dist-packages/skimage/data/${PHOTO}`;

/** Makes the video `spec` describes (the demo's by default) at `out`, unless it is there already. */
export async function makeSampleVideo(
  out: string,
  cacheDir: string,
  sample: SampleSpec = SAMPLE,
): Promise<SampleVideo> {
  const description =
    `${sample.durationS} s, ${sample.width}x${sample.height}: ` +
    sample.utterances.map((u) => `"${u.text}" at ${u.atS} s`).join(', ') +
    `; a motorcycle on screen ${sample.photo.fromS}–${sample.photo.toS} s`;
  const specFile = `${out}.spec`;
  const spec = createHash('sha256').update(JSON.stringify(sample)).digest('hex');
  if ((await readFile(specFile, 'utf8').catch(() => '')) === spec)
    return { path: out, reused: true, description };

  const photo = await motorcyclePhoto(cacheDir);
  const work = await mkdtemp(join(tmpdir(), 'clipseek-sample-'));
  try {
    const voices: string[] = [];
    for (const [i, u] of sample.utterances.entries()) {
      const wav = join(work, `voice${i}.wav`);
      await run('espeak-ng', [
        ...[
          '-v',
          sample.voice.name,
          '-s',
          String(sample.voice.wordsPerMinute),
          '-g',
          String(sample.voice.wordGap10ms),
        ],
        ...['-w', wav, u.text],
      ]);
      voices.push(wav);
    }
    const partial = join(work, 'sample.mp4');
    await run('ffmpeg', sampleArgs(sample, photo, voices, partial));
    await mkdir(dirname(out), { recursive: true });
    // Copy next to the target, then rename: the file appears whole or not at all.
    await copyFile(partial, `${out}.tmp`);
    await rename(`${out}.tmp`, out);
    await writeFile(specFile, spec);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { path: out, reused: false, description };
}

/** The ffmpeg command line: pattern + photo overlay for the span + the voices mixed over a faint noise floor. */
export function sampleArgs(sample: SampleSpec, photo: string, voices: string[], out: string): string[] {
  const { durationS: d, width, height, fps, photo: span } = sample;
  const inputs = [
    ...['-f', 'lavfi', '-i', `testsrc2=s=${width}x${height}:r=${fps}:d=${d}`],
    ...['-loop', '1', '-framerate', String(fps), '-i', photo],
    ...voices.flatMap((v) => ['-i', v]),
    ...['-f', 'lavfi', '-i', `anoisesrc=color=white:amplitude=0.002:d=${d}:r=48000:seed=42`],
  ];
  const noise = 2 + voices.length;
  const delayed = sample.utterances.map(
    (u, i) => `[${2 + i}:a]adelay=${Math.round(u.atS * 1000)}:all=1[a${i}]`,
  );
  const filter = [
    `[1:v]scale=-2:${height - 20},format=yuv420p[photo]`,
    `[0:v][photo]overlay=x=(W-w)/2:y=(H-h)/2:enable='between(t,${span.fromS},${span.toS})':shortest=1[v]`,
    ...delayed,
    `[${noise}:a]${voices.map((_, i) => `[a${i}]`).join('')}amix=inputs=${voices.length + 1}:duration=first:normalize=0[a]`,
  ].join(';');
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...inputs,
    ...['-filter_complex', filter, '-map', '[v]', '-map', '[a]'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(fps * 2)],
    ...['-c:a', 'aac', '-b:a', '96k', '-ar', '48000', '-t', String(d), '-movflags', '+faststart', out],
  ];
}

/** The motorcycle photograph from Debian's python3-skimage, fetched once into `cacheDir`. */
export async function motorcyclePhoto(cacheDir: string): Promise<string> {
  const cached = join(cacheDir, PHOTO);
  if (
    await readFile(cached).then(
      () => true,
      () => false,
    )
  )
    return cached;
  const work = await mkdtemp(join(tmpdir(), 'clipseek-photo-'));
  try {
    await aptDownload('python3-skimage', work);
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb)
      throw new ClipseekError('SAMPLE_PHOTO_MISSING', 'apt-get download left no python3-skimage package');
    // Only the one image, straight out of the package's file tree.
    await exec('sh', [
      '-c',
      'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"',
      'sh',
      join(work, deb),
      work,
      PHOTO_IN_PACKAGE,
    ]);
    await mkdir(cacheDir, { recursive: true });
    await copyFile(join(work, PHOTO_IN_PACKAGE), `${cached}.tmp`);
    await rename(`${cached}.tmp`, cached);
    return cached;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** apt-get download, refreshing the package lists once when they do not know the package yet. */
export async function aptDownload(pkg: string, cwd: string): Promise<void> {
  try {
    await exec('apt-get', ['download', pkg], { cwd });
    return;
  } catch (err) {
    if (process.getuid?.() !== 0) {
      throw new ClipseekError(
        'SAMPLE_PHOTO_MISSING',
        `apt-get download ${pkg} failed; run \`sudo apt-get update\` and try again`,
        { cause: err },
      );
    }
  }
  await exec('apt-get', ['update', '-qq']);
  await exec('apt-get', ['download', pkg], { cwd });
}

async function run(cmd: string, args: string[]): Promise<void> {
  try {
    await exec(cmd, args, { maxBuffer: 16 << 20 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new ClipseekError('SAMPLE_FAILED', `${cmd} failed: ${stderr.slice(-500) || String(err)}`, {
      cause: err,
    });
  }
}
