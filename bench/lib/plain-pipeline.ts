/**
 * The baseline the pipeline is measured against: the same work on the same
 * input with the same tools, as a plain script would do it — no gateway, no
 * object storage, no state. Local files in a temp dir; ffmpeg with the
 * stages' own arguments; segmentation, transcription and detection through
 * the stages' logic modules called directly.
 *
 *   sequential: every step one after another.
 *   parallel:   audio + segmentation first, then the per-clip chains
 *               transcode → (transcribe ∥ frames → detect), `clipsAtOnce` at a time.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import type { Profile } from '../../common/contracts/profile.js';
import type { ClipBoundary } from '../../common/contracts/stages.js';
import { ALIGN_AUDIO_START, WAV_16K_MONO_ARGS } from '../../common/ffmpeg/audio.js';
import { evenAtMost, firstAudioStream, mainVideoStream, parseSeconds } from '../../common/ffmpeg/probe.js';
import { createFfmpegRunner, type FfmpegRunner } from '../../common/ffmpeg/runner.js';
import { createLogger } from '../../common/logger.js';
import { resolveProfile } from '../../common/profiles.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { decodeFrame } from '../../functions/detect-objects/decode.js';
import type { ObjectDetector } from '../../functions/detect-objects/detector.js';
import { createHumanDetector } from '../../functions/detect-objects/human-detector.js';
import { selectDetections } from '../../functions/detect-objects/select.js';
import { middleIndex } from '../../functions/sample-frames/frame-times.js';
import { segmentSpeech } from '../../functions/segment-speech/stage.js';
import { PocketsphinxTranscriber } from '../../functions/transcribe-clip/pocketsphinx.js';

export interface PlainTools {
  ffmpeg: FfmpegRunner;
  transcriber: PocketsphinxTranscriber;
  detector: ObjectDetector;
  profile: Profile;
}

export interface PlainResult {
  clips: number;
  words: number;
  detections: number;
}

/** Builds the tools once and loads the detector's model, so runs are warm (like the stack's processes). */
export async function plainTools(): Promise<PlainTools> {
  const detector = createHumanDetector();
  await detector.warmUp();
  return {
    ffmpeg: createFfmpegRunner({ env: {} }),
    transcriber: new PocketsphinxTranscriber(),
    detector,
    profile: resolveProfile('default'),
  };
}

export async function runPlain(
  source: string,
  tools: PlainTools,
  mode: 'sequential' | 'parallel',
  clipsAtOnce = 2,
): Promise<PlainResult> {
  const dir = await mkdtemp(join(tmpdir(), 'clipseek-plain-'));
  try {
    const { clips, height } = await audioAndClips(source, dir, tools);
    const each = (clip: ClipBoundary) => clipChain(source, clip, dir, tools, height, mode);
    let results: Array<{ words: number; detections: number }>;
    if (mode === 'sequential') {
      results = [];
      for (const clip of clips) results.push(await each(clip));
    } else {
      const limit = pLimit(clipsAtOnce);
      results = await Promise.all(clips.map((clip) => limit(() => each(clip))));
    }
    return {
      clips: clips.length,
      words: results.reduce((n, r) => n + r.words, 0),
      detections: results.reduce((n, r) => n + r.detections, 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** extract-audio + segment-speech: the 16 kHz WAV, then clip boundaries from its energy. */
async function audioAndClips(source: string, dir: string, tools: PlainTools) {
  const probe = await tools.ffmpeg.probe(source);
  const video = mainVideoStream(probe);
  const audio = firstAudioStream(probe);
  if (!video || !audio) throw new Error('the benchmark input needs a video and an audio stream');
  const durationS = parseSeconds(probe.format?.duration) ?? 0;
  const wav = join(dir, 'audio.wav');
  await tools.ffmpeg.run([
    '-i',
    source,
    '-map',
    `0:${audio.index}`,
    '-af',
    ALIGN_AUDIO_START,
    ...WAV_16K_MONO_ARGS,
    wav,
  ]);
  // The stage's logic reads the WAV through `getStream`; here that is just the local file.
  const localFile = { getStream: async () => createReadStream(wav) } as unknown as ObjectStore;
  const logger = createLogger({ name: 'plain', level: 'silent' });
  const segmented = await segmentSpeech.run(
    {
      namespace: 'plain',
      request_id: 'plain',
      audio_key: 'audio.wav',
      duration_s: durationS,
      params: tools.profile.segment,
    },
    {
      store: localFile,
      logger,
      signal: new AbortController().signal,
      now: () => new Date(),
      outputKey: (name) => name,
    },
  );
  const clips = segmented.clips.slice(0, tools.profile.run.max_clips);
  return { clips, height: video.height ?? tools.profile.transcode.height };
}

/** One clip: the exact range as an H.264 rendition + WAV, then its transcript, frames, thumbnail and objects. */
async function clipChain(
  source: string,
  clip: ClipBoundary,
  dir: string,
  tools: PlainTools,
  sourceHeight: number,
  mode: 'sequential' | 'parallel',
): Promise<{ words: number; detections: number }> {
  const { transcode, frames: frameParams, detect } = tools.profile;
  const base = join(dir, `clip-${clip.index}`);
  const mp4 = `${base}.mp4`;
  const wav = `${base}.wav`;
  const duration = Math.max(clip.end - clip.start, 0.04).toFixed(6);
  // Input seeking with a re-encode is frame-accurate: what transcode-clip gets from piece + offset.
  await tools.ffmpeg.run([
    ...['-ss', clip.start.toFixed(6), '-i', source, '-map', '0:v:0', '-map', '0:a:0', '-t', duration],
    ...['-vf', `scale=-2:${evenAtMost(sourceHeight, transcode.height)},format=yuv420p`],
    ...['-c:v', 'libx264', '-preset', transcode.preset, '-crf', String(transcode.crf)],
    ...['-c:a', 'aac', '-b:a', `${transcode.audio_bitrate_k}k`, '-movflags', '+faststart', '-f', 'mp4', mp4],
    ...['-map', '0:a:0', '-t', duration, '-af', ALIGN_AUDIO_START, ...WAV_16K_MONO_ARGS, wav],
  ]);

  const transcribe = async () =>
    (await tools.transcriber.transcribe(wav, { language: 'en-us', signal: new AbortController().signal }))
      .words.length;
  const framesAndObjects = async () => {
    const frameDir = `${base}-frames`;
    await mkdir(frameDir);
    await tools.ffmpeg.run([
      ...['-i', mp4, '-map', '0:v:0'],
      ...['-vf', `setpts=PTS-STARTPTS,fps=${frameParams.fps}:round=up,scale=${frameParams.max_width}:-2`],
      ...['-q:v', '3', '-start_number', '0', '-f', 'image2', join(frameDir, 'frame-%05d.jpg')],
    ]);
    const files = (await readdir(frameDir)).sort();
    await sharp(join(frameDir, files[middleIndex(files.length)]!))
      .resize({ width: frameParams.thumb_width, withoutEnlargement: true })
      .jpeg({ quality: 80 })
      .toFile(`${base}-thumb.jpg`);
    let detections = 0;
    for (const file of files) {
      const image = await decodeFrame(await readFile(join(frameDir, file)), file);
      detections += selectDetections(await tools.detector.detect(image), detect).length;
    }
    return detections;
  };
  if (mode === 'sequential') {
    const words = await transcribe();
    return { words, detections: await framesAndObjects() };
  }
  const [words, detections] = await Promise.all([transcribe(), framesAndObjects()]);
  return { words, detections };
}
