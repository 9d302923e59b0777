/**
 * detect-objects with the real model (CenterNet from @vladmandic/human on the
 * tfjs wasm backend) on real photographs that Debian ships in python3-skimage,
 * and on generated frames with nothing in them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageOutput } from '../../common/contracts/stages.js';
import { clipId } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { createHumanDetector } from '../../functions/detect-objects/human-detector.js';
import { detectObjects } from '../../functions/detect-objects/stage.js';
import { type Photos, skimagePhotos } from '../helpers/photos.js';

const exec = promisify(execFile);
/** The default profile's: the letterbox and the tiles, the support rule. */
const params = resolveProfile('default').detect;
const logger = createLogger({ name: 'test', level: 'silent' });

// One model per test file: loaded once, shared by every test.
const detector = createHumanDetector();
let root: string;
let store: FolderStore;
let photos: Photos;
let clipCount = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clipseek-detect-'));
  store = new FolderStore(join(root, 'bucket'));
  [photos] = await Promise.all([skimagePhotos(), detector.warmUp()]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Stores JPEG frames as sample-frames would and runs detect-objects on them as one clip. */
async function detectOn(jpegs: Buffer[], frameIntervalS = 1): Promise<StageOutput<'detect-objects'>> {
  const clip = clipCount++;
  const frames = [];
  for (const [i, jpeg] of jpegs.entries()) {
    const key = `requests/r_detect/sample-frames/${clipId(clip)}/frame-${i}.jpg`;
    await store.put(key, jpeg, { contentType: 'image/jpeg' });
    frames.push({ key, t: i * frameIntervalS });
  }
  const { manifest } = await runStageOnce(
    detectObjects,
    { namespace: 'default', request_id: 'r_detect', clip, frames, frame_interval_s: frameIntervalS, params },
    { detector, store, logger, signal: new AbortController().signal, now: () => new Date() },
  );
  return manifest.output;
}

const photoJpeg = async (path: string) =>
  sharp(await readFile(path))
    .jpeg({ quality: 90 })
    .toBuffer();

async function ffmpegFrame(source: string): Promise<Buffer> {
  const out = join(root, `frame-${clipCount}-${Date.now()}.jpg`);
  await exec('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    source,
    '-frames:v',
    '1',
    out,
  ]);
  return readFile(out);
}

const labelsOf = (out: StageOutput<'detect-objects'>) => out.labels.map((l) => l.label);

describe('detect-objects on real photographs', () => {
  it('finds the person in the astronaut photograph', async () => {
    const out = await detectOn([await photoJpeg(photos.astronaut)]);
    expect(labelsOf(out)).toContain('person');
    const people = out.detections.filter((d) => d.label === 'person');
    expect(people).toHaveLength(1); // one person, one detection: NMS merged the overlapping boxes
    const [x, y, w, h] = people[0]!.box;
    expect(w * h).toBeGreaterThan(0.3); // she fills most of the picture
    expect(x + w).toBeLessThanOrEqual(1);
    expect(y + h).toBeLessThanOrEqual(1);
    expect(out.model).toMatch(/^human-3\.\d+\.\d+\/centernet$/);
  });

  it('finds the motorcycle', async () => {
    const out = await detectOn([await photoJpeg(photos.motorcycle)]);
    expect(labelsOf(out)[0]).toBe('motorcycle'); // the best-scoring label
    expect(out.detections.filter((d) => d.label === 'motorcycle')).toHaveLength(1);
  });

  it('finds the cup of coffee', async () => {
    const out = await detectOn([await photoJpeg(photos.coffee)]);
    expect(labelsOf(out)).toContain('cup');
  });

  it('reports nothing on plain generated frames', async () => {
    const out = await detectOn([
      await ffmpegFrame('color=c=0x336699:s=640x360'),
      await ffmpegFrame('color=c=black:s=640x360'),
      await ffmpegFrame('testsrc=s=640x360'),
    ]);
    expect(out.detections).toEqual([]);
    expect(out.labels).toEqual([]);
  });

  it('gives the same answer for the same frame (no state carried between calls)', async () => {
    const jpeg = await photoJpeg(photos.motorcycle);
    const a = await detectOn([jpeg]);
    const b = await detectOn([jpeg]);
    expect(b.detections).toEqual(a.detections);
  });
});
