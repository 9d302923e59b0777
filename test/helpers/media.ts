/**
 * Test media, generated on the spot with Debian's ffmpeg and espeak-ng.
 *
 * Files that take real work (videos, speech) are cached in `test/.media/`
 * (git-ignored), named by a hash of their parameters, and written atomically
 * (temp file + rename) so parallel test files can share them. Delete the
 * folder to regenerate. Small throwaway files (zero bytes, text, playlists)
 * go into a directory the caller owns.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mulberry32 } from './seeded-random.js';

const exec = promisify(execFile);

/** Bump to invalidate every cached file after a change in how media is made. */
const GENERATOR_VERSION = 1;
export const MEDIA_CACHE_DIR = fileURLToPath(new URL('../.media/', import.meta.url));

/** Sample rate of the generated soundtracks (what a camera would record). */
const TRACK_RATE = 48_000;
/** An utterance's extent is where its waveform first/last exceeds this (≈ −40 dBFS). */
const SPEECH_EDGE_AMPLITUDE = 0.01;

export interface VideoOptions {
  durationS: number;
  width: number;
  height: number;
  fps: number;
  /** Keyframe interval in frames: large (e.g. 250) so keyframe rounding would show. */
  gop: number;
}

export interface Utterance {
  text: string;
  /** Where the first audible sample lands, in seconds. */
  atS: number;
}

export interface SpeechVideoOptions extends VideoOptions {
  utterances: Utterance[];
  /** Peak of the uniform noise floor mixed under everything (0.002 ≈ −59 dBFS RMS). */
  noiseAmplitude: number;
}

export interface SpeechVideo {
  path: string;
  options: SpeechVideoOptions;
  /** The true extent of each utterance in the soundtrack, [start, end] seconds, in order. */
  speech: Array<[number, number]>;
}

export const DEFAULT_VIDEO: VideoOptions = { durationS: 16, width: 320, height: 240, fps: 30, gop: 250 };

export const DEFAULT_UTTERANCES: Utterance[] = [
  { text: 'hello world', atS: 1.0 },
  { text: 'the quick brown fox jumps over the lazy dog', atS: 5.0 },
  { text: 'find the red car', atS: 11.0 },
];

/**
 * testsrc2 video (H.264, keyframes every `gop` frames, B-frames on) with an
 * AAC soundtrack: espeak-ng utterances at known times over a low noise floor.
 * `speech` gives where each utterance really is, measured on its samples.
 */
export async function speechVideo(overrides: Partial<SpeechVideoOptions> = {}): Promise<SpeechVideo> {
  const options: SpeechVideoOptions = {
    ...DEFAULT_VIDEO,
    utterances: DEFAULT_UTTERANCES,
    noiseAmplitude: 0.002,
    ...overrides,
  };
  const path = cachePath('speech', options, 'mp4');
  const metaPath = `${path}.speech`;
  if (!(await exists(path)) || !(await exists(metaPath))) {
    const { samples, speech } = await soundtrack(options);
    const track = await tempPath('track.f32');
    try {
      await writeFile(track, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
      await cached(path, (out) =>
        ffmpeg([
          ...testsrcInput(options),
          ...['-f', 'f32le', '-ar', String(TRACK_RATE), '-ac', '1', '-i', track],
          ...h264Args(options),
          ...['-c:a', 'aac', '-b:a', '96k', '-shortest', '-f', 'mp4', out],
        ]),
      );
    } finally {
      await rm(track, { force: true });
    }
    await cached(metaPath, (out) => writeFile(out, speech.map(([s, e]) => `${s} ${e}`).join('\n')));
  }
  const speech = (await readFile(metaPath, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ').map(Number) as [number, number]);
  return { path, options, speech };
}

/** testsrc2 video with no audio track at all. */
export async function videoWithoutAudio(overrides: Partial<VideoOptions> = {}): Promise<string> {
  const options = { ...DEFAULT_VIDEO, durationS: 6, ...overrides };
  const path = cachePath('noaudio', options, 'mp4');
  await cached(path, (out) => ffmpeg([...testsrcInput(options), ...h264Args(options), '-f', 'mp4', out]));
  return path;
}

/** AAC audio in an MP4 container (.m4a), no video stream. */
export async function audioOnlyFile(durationS = 3): Promise<string> {
  const path = cachePath('audioonly', { durationS }, 'm4a');
  await cached(path, (out) =>
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `sine=f=440:d=${durationS}:r=${TRACK_RATE}`,
      '-c:a',
      'aac',
      '-f',
      'mp4',
      out,
    ]),
  );
  return path;
}

/**
 * A video whose header claims more than the service accepts (wider than 8K).
 * One tiny frame, so it costs nothing to make.
 */
export async function oversizedVideo(width = 8208, height = 16): Promise<string> {
  const path = cachePath('oversized', { width, height }, 'mkv');
  await cached(path, (out) =>
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `color=c=gray:s=${width}x${height}:r=1:d=1`,
      '-c:v',
      'mjpeg',
      '-f',
      'matroska',
      out,
    ]),
  );
  return path;
}

/**
 * The same streams in another container, by stream copy. Pick an `ext` no
 * tool mistakes for source code (not `.ts`: biome would lint an MPEG-TS file).
 */
export async function remuxed(source: string, format: 'mpegts' | 'matroska', ext: string): Promise<string> {
  const path = cachePath(`remux-${format}`, { source }, ext);
  await cached(path, (out) => ffmpeg(['-i', source, '-map', '0', '-c', 'copy', '-f', format, out]));
  return path;
}

/**
 * `source` re-encoded as an old DivX/Xvid AVI: MPEG-4 Part 2 with *packed*
 * B-frames (libxvid packs them in AVI: a P-frame and the next B-frame in one
 * chunk, then a few-byte placeholder) and AC3 audio, like Megamind.avi in
 * Debian's opencv-doc. Keyframes every `gop` frames.
 */
export async function packedDivxAvi(source: string, gop = 250): Promise<string> {
  const path = cachePath('divx', { source, gop }, 'avi');
  await cached(path, (out) =>
    ffmpeg([
      ...['-i', source, '-map', '0:v:0', '-map', '0:a:0?'],
      ...['-c:v', 'libxvid', '-bf', '2', '-g', String(gop), '-q:v', '4', '-vtag', 'DX50'],
      ...['-c:a', 'ac3', '-b:a', '96k', '-f', 'avi', out],
    ]),
  );
  return path;
}

/** `source` as MPEG-2 video with B-frames (and MP2 audio) in AVI: no presentation times, but ffmpeg can generate them. */
export async function mpeg2Avi(source: string, gop = 250): Promise<string> {
  const path = cachePath('mpeg2avi', { source, gop }, 'avi');
  await cached(path, (out) =>
    ffmpeg([
      ...['-i', source, '-map', '0:v:0', '-map', '0:a:0?'],
      ...['-c:v', 'mpeg2video', '-bf', '2', '-g', String(gop), '-q:v', '4'],
      // Closed GOPs, as cameras write them (ffmpeg wants scene-change detection off for that).
      ...['-flags', '+cgop', '-sc_threshold', '1000000000'],
      ...['-c:a', 'mp2', '-b:a', '128k', '-f', 'avi', out],
    ]),
  );
  return path;
}

/** H.264 with B-frames in AVI: the packets have no presentation times, and none can be made without decoding. */
export async function h264BFramesAvi(): Promise<string> {
  const path = cachePath('h264avi', {}, 'avi');
  await cached(path, (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=25:d=4'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '50', '-f', 'avi', out],
    ]),
  );
  return path;
}

/**
 * A short H.264 (4:4:4, which allows odd sizes) + AAC MP4 of any size, e.g. 1×1
 * or 33×17 — sizes 4:2:0 encoders refuse. Made at 64×64 and scaled, since
 * lavfi sources round small sizes.
 */
export async function tinyVideo(width: number, height: number, durationS = 3): Promise<string> {
  const path = cachePath('tiny', { width, height, durationS }, 'mp4');
  await cached(path, (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', `testsrc2=s=64x64:r=10:d=${durationS}`],
      ...['-f', 'lavfi', '-i', `sine=f=440:r=${TRACK_RATE}:d=${durationS}`],
      ...['-vf', `scale=${width}:${height}`, '-c:v', 'libx264', '-preset', 'ultrafast'],
      ...['-pix_fmt', 'yuv444p', '-c:a', 'aac', '-shortest', '-f', 'mp4', out],
    ]),
  );
  return path;
}

/**
 * An MP4 cut short. Default layout (index at the end): the index is gone and
 * nothing can be read. `faststart` (index first): it opens, then the data runs out.
 */
export async function truncatedMp4(
  dir: string,
  layout: 'default' | 'faststart' = 'default',
): Promise<string> {
  const full = await speechVideo();
  const source =
    layout === 'default'
      ? full.path
      : await (async () => {
          const path = cachePath('faststart', { source: full.path }, 'mp4');
          await cached(path, (out) =>
            ffmpeg(['-i', full.path, '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', out]),
          );
          return path;
        })();
  const path = join(dir, `truncated-${layout}.mp4`);
  await writeFile(path, await readFile(source));
  await truncate(path, Math.floor((await stat(path)).size * 0.4));
  return path;
}

export async function zeroByteFile(dir: string): Promise<string> {
  const path = join(dir, 'empty.mp4');
  await writeFile(path, '');
  return path;
}

/** Plain text with a video file name. */
export async function textAsMp4(dir: string): Promise<string> {
  const path = join(dir, 'notes.mp4');
  await writeFile(path, 'These are meeting notes, not a video.\nSecond line.\n');
  return path;
}

/** An HLS playlist (named .mp4) whose only segment is `target`, e.g. file:///etc/passwd. */
export async function hlsPlaylist(dir: string, target: string, name = 'playlist.mp4'): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:10',
      '#EXTINF:10.0,',
      target,
      '#EXT-X-ENDLIST',
      '',
    ].join('\n'),
  );
  return path;
}

/** An ffconcat list (named .mp4) that points at `target` (relative names pass concat's own "safe" check). */
export async function concatList(dir: string, target: string, name = 'list.mp4'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `ffconcat version 1.0\nfile '${target}'\n`);
  return path;
}

/** A short MPEG-TS segment: real media for a playlist to point at. */
export async function transportStreamSegment(dir: string, name = 'segment.ts'): Promise<string> {
  const path = join(dir, name);
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=160x120:r=10:d=2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-f',
    'mpegts',
    path,
  ]);
  return path;
}

/** A 16-bit PCM mono WAV file's bytes (with an optional extra chunk before `data`, as some writers add). */
export function pcm16MonoWav(
  samples: Int16Array,
  sampleRate = 16_000,
  extraChunk?: { id: string; body: Buffer },
): Buffer {
  const chunk = (id: string, body: Buffer) => {
    const header = Buffer.alloc(8);
    header.write(id, 0, 'latin1');
    header.writeUInt32LE(body.length, 4);
    return Buffer.concat([header, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0); // PCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(sampleRate, 4);
  fmt.writeUInt32LE(sampleRate * 2, 8);
  fmt.writeUInt16LE(2, 12);
  fmt.writeUInt16LE(16, 14);
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => {
    data.writeInt16LE(v, i * 2);
  });
  const body = Buffer.concat([
    Buffer.from('WAVE', 'latin1'),
    chunk('fmt ', fmt),
    ...(extraChunk ? [chunk(extraChunk.id, extraChunk.body)] : []),
    chunk('data', data),
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/**
 * Int16 samples: a 300 Hz tone at `amplitude` (0..1) during each of `bursts`
 * ([start, end] seconds), over a seeded noise floor of `noise` (0..1).
 */
export function toneBursts(
  durationS: number,
  bursts: Array<[number, number]>,
  options: { sampleRate?: number; amplitude?: number; noise?: number } = {},
): Int16Array {
  const rate = options.sampleRate ?? 16_000;
  const amplitude = options.amplitude ?? 0.5;
  const random = mulberry32(7);
  const out = new Int16Array(Math.round(durationS * rate));
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    const on = bursts.some(([s, e]) => t >= s && t < e);
    const value =
      (on ? amplitude * Math.sin(2 * Math.PI * 300 * t) : 0) + (random() * 2 - 1) * (options.noise ?? 0);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(value * 32767)));
  }
  return out;
}

/** Runs ffmpeg quietly; throws with its stderr on failure. */
export async function ffmpeg(args: string[]): Promise<void> {
  await exec('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
    maxBuffer: 64 << 20,
  });
}

/** ffprobe's JSON for `args` (e.g. ['-show_streams']). */
export async function ffprobeJson<T = Record<string, unknown>>(file: string, args: string[]): Promise<T> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-of', 'json', ...args, file], {
    maxBuffer: 256 << 20,
  });
  return JSON.parse(stdout) as T;
}

/** Decodes frames of `file` to 8-bit gray `width`×`height` images (raw bytes, one after another). */
export async function grayFrames(
  file: string,
  options: { fromS?: number; frames: number; width?: number; height?: number },
): Promise<Buffer[]> {
  const width = options.width ?? 64;
  const height = options.height ?? 48;
  const { stdout } = await exec(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      ...(options.fromS === undefined ? [] : ['-ss', options.fromS.toFixed(6)]),
      '-i',
      file,
      '-frames:v',
      String(options.frames),
      '-vf',
      `scale=${width}:${height},format=gray`,
      '-f',
      'rawvideo',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 256 << 20 },
  );
  const size = width * height;
  return Array.from({ length: Math.floor(stdout.length / size) }, (_, i) =>
    stdout.subarray(i * size, (i + 1) * size),
  );
}

/** Mean absolute difference of two gray images of the same size. */
export function imageDistance(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/**
 * Which frame of `reference` (a constant-rate video whose frame n is at n / fps)
 * the first frame of `clip` shows: the closest match among the reference frames
 * within ±`window` frames of `aroundS`. Returns the frame index n.
 */
export async function locateFirstFrame(
  clip: string,
  reference: string,
  aroundS: number,
  fps: number,
  window = 6,
): Promise<number> {
  const [first] = await grayFrames(clip, { frames: 1 });
  const fromIndex = Math.max(0, Math.round(aroundS * fps) - window);
  // Seek a quarter frame early: the first frame decoded is then exactly frame `fromIndex`.
  const fromS = Math.max(0, (fromIndex - 0.25) / fps);
  const candidates = await grayFrames(reference, { fromS, frames: 2 * window + 1 });
  const distances = candidates.map((c) => imageDistance(first!, c));
  return fromIndex + distances.indexOf(Math.min(...distances));
}

/**
 * Like locateFirstFrame, for every frame of `clip`: which frame of `reference`
 * each one shows, the closest match within ±`window` frames of where it should
 * be if the clip's frames were `firstIndex`, `firstIndex` + 1, …. Catches
 * frames shown out of order, twice or not at all, not only a wrong start.
 */
export async function locateFrames(
  clip: string,
  reference: string,
  firstIndex: number,
  fps: number,
  window = 3,
): Promise<number[]> {
  const shown = await grayFrames(clip, { frames: 100_000 });
  const fromIndex = Math.max(0, firstIndex - window);
  const candidates = await grayFrames(reference, {
    fromS: Math.max(0, (fromIndex - 0.25) / fps),
    frames: shown.length + 2 * window + 1,
  });
  return shown.map((frame, i) => {
    const lo = Math.max(0, firstIndex + i - window - fromIndex);
    const near = candidates.slice(lo, firstIndex + i + window + 1 - fromIndex);
    const distances = near.map((c) => imageDistance(frame, c));
    return fromIndex + lo + distances.indexOf(Math.min(...distances));
  });
}

/** The index of the first frame at or after `timeS` in a constant-rate video starting at 0. */
export function firstFrameAtOrAfter(timeS: number, fps: number): number {
  return Math.ceil(timeS * fps - 1e-3);
}

/** Non-silent ranges according to ffmpeg's silencedetect (`noiseDb` like -40, `minSilenceS` like 0.5). */
export async function silencedetectSpeech(
  file: string,
  noiseDb: number,
  minSilenceS: number,
): Promise<Array<[number, number]>> {
  const { stderr } = await exec('ffmpeg', [
    '-hide_banner',
    '-nostats',
    '-i',
    file,
    '-af',
    `silencedetect=n=${noiseDb}dB:d=${minSilenceS}`,
    '-f',
    'null',
    '-',
  ]);
  const duration = Number(
    (await ffprobeJson<{ format: { duration: string } }>(file, ['-show_format'])).format.duration,
  );
  const starts = [...stderr.matchAll(/silence_start: (-?[\d.]+)/g)].map((m) => Math.max(0, Number(m[1])));
  const ends = [...stderr.matchAll(/silence_end: ([\d.]+)/g)].map((m) => Number(m[1]));
  // Sound is what lies between silences.
  const sound: Array<[number, number]> = [];
  let cursor = 0;
  starts.forEach((start, i) => {
    if (start > cursor) sound.push([cursor, start]);
    cursor = ends[i] ?? duration;
  });
  if (cursor < duration) sound.push([cursor, duration]);
  return sound.filter(([s, e]) => e - s > 0.05);
}

// ---- internals ----

function testsrcInput(o: VideoOptions): string[] {
  return ['-f', 'lavfi', '-i', `testsrc2=s=${o.width}x${o.height}:r=${o.fps}:d=${o.durationS}`];
}

function h264Args(o: VideoOptions): string[] {
  // veryfast keeps B-frames (unlike ultrafast), like real camera/phone files.
  return [
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
    ...['-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0'],
  ];
}

/** The mono soundtrack as float samples at TRACK_RATE, and where each utterance is. */
async function soundtrack(
  o: SpeechVideoOptions,
): Promise<{ samples: Float32Array; speech: Array<[number, number]> }> {
  const samples = new Float32Array(Math.round(o.durationS * TRACK_RATE));
  const random = mulberry32(0x5eed);
  for (let i = 0; i < samples.length; i++) samples[i] = (random() * 2 - 1) * o.noiseAmplitude;
  const speech: Array<[number, number]> = [];
  for (const u of o.utterances) {
    const voice = trimSilence(await speak(u.text));
    const at = Math.round(u.atS * TRACK_RATE);
    if (at + voice.length > samples.length)
      throw new Error(`utterance "${u.text}" runs past the end of the video`);
    for (let i = 0; i < voice.length; i++) samples[at + i]! += voice[i]!;
    speech.push([at / TRACK_RATE, (at + voice.length) / TRACK_RATE]);
  }
  return { samples, speech };
}

/** espeak-ng's voice for `text`, resampled to TRACK_RATE mono float. */
async function speak(text: string): Promise<Float32Array> {
  const wav = await tempPath('voice.wav');
  try {
    await exec('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, text]);
    const { stdout } = await exec(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        wav,
        '-ar',
        String(TRACK_RATE),
        '-ac',
        '1',
        '-f',
        'f32le',
        'pipe:1',
      ],
      { encoding: 'buffer', maxBuffer: 64 << 20 },
    );
    const copy = Buffer.from(stdout); // aligned copy for the Float32Array view
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  } finally {
    await rm(wav, { force: true });
  }
}

function trimSilence(x: Float32Array): Float32Array {
  let first = 0;
  while (first < x.length && Math.abs(x[first]!) <= SPEECH_EDGE_AMPLITUDE) first++;
  let last = x.length - 1;
  while (last > first && Math.abs(x[last]!) <= SPEECH_EDGE_AMPLITUDE) last--;
  return x.subarray(first, last + 1);
}

function cachePath(kind: string, params: unknown, ext: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: GENERATOR_VERSION, kind, params }))
    .digest('hex')
    .slice(0, 16);
  return join(MEDIA_CACHE_DIR, `${kind}-${hash}.${ext}`);
}

/** Makes `path` with `make(tempPath)` unless it exists; the rename makes it appear whole or not at all. */
async function cached(path: string, make: (out: string) => Promise<unknown>): Promise<void> {
  if (await exists(path)) return;
  await mkdir(MEDIA_CACHE_DIR, { recursive: true });
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await make(temp);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

async function tempPath(name: string): Promise<string> {
  await mkdir(MEDIA_CACHE_DIR, { recursive: true });
  return join(MEDIA_CACHE_DIR, `${process.pid}-${randomBytes(4).toString('hex')}-${name}`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
