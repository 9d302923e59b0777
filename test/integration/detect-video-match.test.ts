/**
 * From pixels to a ranked answer: a generated 12 s video shows the motorcycle
 * photograph from t = 4 s to t = 8 s over a test pattern. Frames sampled at
 * 1 fps (ffmpeg, here in the test) go through detect-objects per clip (the
 * default profile: square tiles and the support rule), then rankRanges
 * answers "find the motorbikes": one range, 4–8 s to within half a frame.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageOutput } from '../../common/contracts/stages.js';
import { clipId } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { type ClipEvidence, rankRanges, understandQuery } from '../../common/matching/index.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { createHumanDetector } from '../../functions/detect-objects/human-detector.js';
import { detectObjects } from '../../functions/detect-objects/stage.js';
import { skimagePhotos } from '../helpers/photos.js';

const exec = promisify(execFile);
const ffmpeg = (args: string[]) =>
  exec('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]);

const VIDEO_S = 12;
const SHOWN = { from: 4, to: 8 };
const FPS = 1;
/** Clip boundaries (source seconds) that do not line up with the span: clip 1 holds it. */
const CLIPS = [
  { index: 0, start: 0, end: 3 },
  { index: 1, start: 3, end: 9 },
  { index: 2, start: 9, end: 12 },
];

const logger = createLogger({ name: 'test', level: 'silent' });
let root: string;
let store: FolderStore;
let outputs: StageOutput<'detect-objects'>[];
const framesOf: Array<Array<{ key: string; t: number }>> = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clipseek-detect-video-'));
  store = new FolderStore(join(root, 'bucket'));
  const photos = await skimagePhotos();

  const video = join(root, 'motorcycle.mp4');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc=size=640x360:rate=25:duration=${VIDEO_S}`],
    // One photo frame per second is enough for overlay (it repeats the latest) and decodes 25× less.
    ...['-framerate', '1', '-loop', '1', '-i', photos.motorcycle],
    '-filter_complex',
    `[1:v]scale=480:-2[photo];[0:v][photo]overlay=(W-w)/2:(H-h)/2:enable='gte(t,${SHOWN.from})*lt(t,${SHOWN.to})'`,
    ...['-t', String(VIDEO_S), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video],
  ]);

  // 1 fps: the n-th JPEG (from 0) is the picture at t = n s.
  const framesDir = join(root, 'frames');
  await exec('mkdir', ['-p', framesDir]);
  await ffmpeg(['-i', video, '-vf', `fps=${FPS}`, '-q:v', '3', join(framesDir, 'f-%03d.jpg')]);
  const files = (await readdir(framesDir)).sort();
  expect(files.length).toBeGreaterThanOrEqual(VIDEO_S * FPS);

  // Each clip gets the frames inside it, with clip-relative times (what sample-frames writes).
  const detector = createHumanDetector();
  outputs = [];
  for (const c of CLIPS) {
    const frames = [];
    for (const [n, file] of files.entries()) {
      const t = n / FPS;
      if (t < c.start || t >= c.end) continue;
      const key = `requests/r_video/sample-frames/${clipId(c.index)}/${file}`;
      await store.put(key, await readFile(join(framesDir, file)), { contentType: 'image/jpeg' });
      frames.push({ key, t: t - c.start });
    }
    const { manifest } = await runStageOnce(
      detectObjects,
      {
        namespace: 'default',
        request_id: 'r_video',
        clip: c.index,
        frames,
        frame_interval_s: 1 / FPS,
        params: resolveProfile('default').detect,
      },
      { detector, store, logger, signal: new AbortController().signal, now: () => new Date() },
    );
    outputs.push(manifest.output);
    framesOf.push(frames);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a query naming an object finds the time it is on screen', () => {
  it('"find the motorbikes" answers one range, 4–8 s to within half a frame, with its best frame', () => {
    const evidence: ClipEvidence[] = CLIPS.map((c, i) => ({
      clip: c.index,
      start: c.start,
      end: c.end,
      words: [],
      labels: outputs[i]!.labels,
      detections: outputs[i]!.detections,
      frames: framesOf[i]!,
      transcript: '',
      video_key: `requests/r_video/transcode-clip/${clipId(c.index)}/clip.mp4`,
      thumbnail_key: `requests/r_video/sample-frames/${clipId(c.index)}/thumb.jpg`,
    }));
    const understood = understandQuery('find the motorbikes');
    expect(understood.labels).toEqual(['motorcycle']);
    const matches = rankRanges(understood, evidence, { frameIntervalS: 1 / FPS });
    console.log(
      `[detect] matches: ${JSON.stringify(matches.map((m) => [m.start, m.end, m.score, m.clips]))}`,
    );

    // A frame at t stands for [t − 0.5, t + 0.5): the photo, on screen 4–8 s, is seen at 4, 5, 6, 7.
    expect(matches).toHaveLength(1);
    const top = matches[0]!;
    expect(top.start).toBeGreaterThanOrEqual(SHOWN.from - 0.5);
    expect(top.start).toBeLessThanOrEqual(SHOWN.from);
    expect(top.end).toBeGreaterThanOrEqual(SHOWN.to - 0.5);
    expect(top.end).toBeLessThanOrEqual(SHOWN.to + 0.5);
    expect(top.clips).toEqual([1]);
    expect(top.video_keys).toEqual(['requests/r_video/transcode-clip/0001/clip.mp4']);
    expect(top.thumbnail_t).toBeGreaterThanOrEqual(SHOWN.from);
    expect(top.thumbnail_t).toBeLessThan(SHOWN.to);
  });

  it('the frames outside the span show no motorcycle', () => {
    for (const [i, out] of outputs.entries()) {
      const seenAt = out.detections.filter((d) => d.label === 'motorcycle').map((d) => d.t + CLIPS[i]!.start);
      for (const t of seenAt) {
        expect(t).toBeGreaterThanOrEqual(SHOWN.from);
        expect(t).toBeLessThan(SHOWN.to);
      }
    }
  });
});
