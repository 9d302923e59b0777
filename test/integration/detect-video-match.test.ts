/**
 * From pixels to a ranked answer: a generated 12 s video shows the motorcycle
 * photograph from t = 4 s to t = 8 s over a test pattern. Frames sampled at
 * 1 fps (ffmpeg, here in the test) go through detect-objects per clip, then
 * rankClips answers "find the motorbikes": the top clip must be the one that
 * holds 4–8 s, and its ranges must cover that span in source time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageOutput } from '../../common/contracts/stages.js';
import { createLogger } from '../../common/logger.js';
import { type ClipEvidence, rankClips, understandQuery } from '../../common/matching/index.js';
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
      const key = `requests/r_video/sample-frames/${String(c.index).padStart(4, '0')}/${file}`;
      await store.put(key, await readFile(join(framesDir, file)), { contentType: 'image/jpeg' });
      frames.push({ key, t: t - c.start });
    }
    const { manifest } = await runStageOnce(
      detectObjects,
      {
        request_id: 'r_video',
        clip: c.index,
        frames,
        frame_interval_s: 1 / FPS,
        params: { min_score: 0.3, max_detections: 20, iou_threshold: 0.5 },
      },
      { detector, store, logger, signal: new AbortController().signal, now: () => new Date() },
    );
    outputs.push(manifest.output);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a query naming an object finds the clip and the time it is on screen', () => {
  it('"find the motorbikes" ranks the clip holding 4–8 s first, with ranges covering that span', () => {
    const evidence: ClipEvidence[] = CLIPS.map((c, i) => ({
      clip: c.index,
      start: c.start,
      end: c.end,
      words: [],
      labels: outputs[i]!.labels,
      transcript: '',
      video_key: `requests/r_video/transcode-clip/${String(c.index).padStart(4, '0')}/clip.mp4`,
      thumbnail_key: `requests/r_video/sample-frames/${String(c.index).padStart(4, '0')}/thumb.jpg`,
    }));
    const understood = understandQuery('find the motorbikes');
    expect(understood.labels).toEqual(['motorcycle']);
    const matches = rankClips(understood, evidence);
    console.log(
      `[detect] matches: ${JSON.stringify(matches.map((m) => ({ clip: m.clip, score: m.score, why: m.why.labels })))}`,
    );

    expect(matches.length).toBeGreaterThan(0);
    const top = matches[0]!;
    expect(top.clip).toBe(1);
    const motorcycle = top.why.labels.find((l) => l.label === 'motorcycle');
    expect(motorcycle).toBeDefined();
    // Source time: one range from 4 s to 8 s (a frame at t stands for [t, t + 1 s)).
    expect(motorcycle!.ranges).toEqual([[SHOWN.from, SHOWN.to]]);
    expect(top.video_key).toBe('requests/r_video/transcode-clip/0001/clip.mp4');
    // The clips without the photograph are not answers.
    expect(matches.map((m) => m.clip)).toEqual([1]);
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
