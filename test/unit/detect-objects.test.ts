import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detection } from '../../common/contracts/stages.js';
import { createLogger } from '../../common/logger.js';
import { runStageOnce } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import type { ObjectDetector, RawDetection, RgbImage } from '../../functions/detect-objects/detector.js';
import { summarizeLabels } from '../../functions/detect-objects/evidence.js';
import { iou, selectDetections } from '../../functions/detect-objects/select.js';
import { detectObjects } from '../../functions/detect-objects/stage.js';

const params = {
  views: 'letterbox' as const,
  min_score: 0.3,
  support_score: 0.3,
  support_frames: 2,
  max_detections: 20,
  iou_threshold: 0.5,
};
const det = (label: string, score: number, box: RawDetection['box']): RawDetection => ({ label, score, box });

describe('selectDetections', () => {
  it('drops candidates under min_score', () => {
    const out = selectDetections(
      [det('car', 0.29, [0, 0, 0.5, 0.5]), det('dog', 0.3, [0.5, 0.5, 0.2, 0.2])],
      params,
    );
    expect(out.map((d) => d.label)).toEqual(['dog']);
  });

  it('suppresses overlapping boxes of the same label: one car is one detection', () => {
    const out = selectDetections(
      [
        det('car', 0.5, [0.11, 0.1, 0.4, 0.4]),
        det('car', 0.8, [0.1, 0.1, 0.4, 0.4]),
        det('car', 0.6, [0.6, 0.6, 0.3, 0.3]), // a second car elsewhere
      ],
      params,
    );
    expect(out).toEqual([det('car', 0.8, [0.1, 0.1, 0.4, 0.4]), det('car', 0.6, [0.6, 0.6, 0.3, 0.3])]);
  });

  it('keeps overlapping boxes of different labels (a rider on a motorcycle)', () => {
    const out = selectDetections(
      [det('motorcycle', 0.7, [0.1, 0.2, 0.6, 0.6]), det('person', 0.6, [0.1, 0.15, 0.6, 0.6])],
      params,
    );
    expect(out.map((d) => d.label)).toEqual(['motorcycle', 'person']);
  });

  it('uses the iou_threshold from the profile', () => {
    const a = det('cup', 0.9, [0, 0, 0.4, 0.4]);
    const b = det('cup', 0.8, [0.1, 0, 0.4, 0.4]); // IoU 0.6
    expect(iou(a.box, b.box)).toBeCloseTo(0.6, 6);
    expect(selectDetections([a, b], { ...params, iou_threshold: 0.5 })).toHaveLength(1);
    expect(selectDetections([a, b], { ...params, iou_threshold: 0.7 })).toHaveLength(2);
  });

  it('keeps the best max_detections', () => {
    const many = Array.from({ length: 10 }, (_, i) => det('person', 0.4 + i * 0.05, [i * 0.1, 0, 0.08, 0.5]));
    const out = selectDetections(many, { ...params, max_detections: 3 });
    expect(out.map((d) => d.score)).toEqual([0.85, 0.8, 0.75].map((s) => expect.closeTo(s, 6)));
  });

  it('clamps boxes to the frame and drops empty ones', () => {
    const out = selectDetections(
      [det('dog', 0.5, [-0.05, 0.9, 0.5, 0.3]), det('cat', 0.5, [1.2, 0, 0.1, 0.1])],
      params,
    );
    expect(out).toEqual([det('dog', 0.5, [0, 0.9, 0.45, 0.1])]);
  });
});

describe('summarizeLabels', () => {
  const at = (t: number, label: string, score: number): Detection => ({ t, label, score, box: [0, 0, 1, 1] });

  it('joins consecutive frames into ranges; a frame at t covers [t, t + interval)', () => {
    const labels = summarizeLabels(
      [
        at(0, 'car', 0.5),
        at(1, 'car', 0.7),
        at(2, 'car', 0.6),
        at(5, 'car', 0.4),
        at(1, 'car', 0.65),
        at(3, 'dog', 0.9),
      ],
      1,
    );
    expect(labels).toEqual([
      { label: 'dog', best_score: 0.9, ranges: [[3, 4]], frames: 1 },
      {
        label: 'car',
        best_score: 0.7,
        ranges: [
          [0, 3],
          [5, 6],
        ],
        frames: 4,
      },
    ]);
  });

  it('tolerates timestamp jitter and other frame intervals', () => {
    const labels = summarizeLabels(
      [at(0, 'person', 0.5), at(0.51, 'person', 0.5), at(0.98, 'person', 0.5)],
      0.5,
    );
    expect(labels[0]!.ranges).toEqual([[0, 1.48]]);
  });

  it('is empty without detections', () => {
    expect(summarizeLabels([], 1)).toEqual([]);
  });
});

describe('detect-objects stage (fake detector)', () => {
  let root: string;
  let store: FolderStore;
  const logger = createLogger({ name: 'test', level: 'silent' });

  /** "Sees" a car in red frames and nothing in others, and remembers what it was given. */
  class RedMeansCar implements ObjectDetector {
    readonly model = 'fake/red-means-car';
    readonly seen: Array<{ width: number; height: number }> = [];
    async detect(image: RgbImage): Promise<RawDetection[]> {
      this.seen.push({ width: image.width, height: image.height });
      // The centre pixel: the corners of a letterboxed view are padding.
      const centre = (Math.floor(image.height / 2) * image.width + Math.floor(image.width / 2)) * 3;
      const [r, g, b] = image.data.subarray(centre, centre + 3);
      if (r! > 200 && g! < 50 && b! < 50) {
        return [
          det('car', 0.9, [0.2, 0.2, 0.5, 0.5]),
          det('car', 0.7, [0.21, 0.2, 0.5, 0.5]),
          det('car', 0.1, [0, 0, 1, 1]),
        ];
      }
      return [];
    }
  }

  const frameJpeg = (color: { r: number; g: number; b: number }) =>
    sharp({ create: { width: 64, height: 48, channels: 3, background: color } })
      .jpeg()
      .toBuffer();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'clipseek-detect-unit-'));
    store = new FolderStore(root);
    const red = await frameJpeg({ r: 255, g: 0, b: 0 });
    const gray = await frameJpeg({ r: 128, g: 128, b: 128 });
    const colors = [gray, red, red, gray, red];
    for (const [i, bytes] of colors.entries()) {
      await store.put(`requests/r_unit/sample-frames/0000/frame-${i}.jpg`, bytes);
    }
    await store.put('requests/r_unit/sample-frames/0000/broken.jpg', Buffer.from('not a jpeg'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const deps = (detector: ObjectDetector) => ({
    detector,
    store,
    logger,
    signal: new AbortController().signal,
    now: () => new Date('2030-01-01T00:00:00Z'),
  });
  const frames = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      key: `requests/r_unit/sample-frames/0000/frame-${i}.jpg`,
      t: i * 2,
    }));

  it('applies the profile to every letterboxed frame and reports label ranges and frame boxes in clip time', async () => {
    const detector = new RedMeansCar();
    const { manifest } = await runStageOnce(
      detectObjects,
      { namespace: 'default', request_id: 'r_unit', clip: 0, frames: frames(5), frame_interval_s: 2, params },
      deps(detector),
    );
    // 64×48 frames, letterboxed to 64×64 (8 rows of padding above and below).
    expect(detector.seen).toEqual(Array(5).fill({ width: 64, height: 64 }));
    // The box [0.2, 0.2, 0.5, 0.5] of the square, in the frame: y = (0.2·64 − 8)/48, h = 0.5·64/48.
    const box = [0.2, 0.1, 0.5, 0.6667];
    expect(manifest.output).toEqual({
      clip: 0,
      model: 'fake/red-means-car',
      detections: [2, 4, 8].map((t) => ({ t, label: 'car', score: 0.9, box })),
      labels: [
        {
          label: 'car',
          best_score: 0.9,
          ranges: [
            [2, 6],
            [8, 10],
          ],
          frames: 3,
        },
      ],
    });
  });

  it('a frame that is not an image is INVALID_FRAME', async () => {
    await expect(
      runStageOnce(
        detectObjects,
        {
          namespace: 'default',
          request_id: 'r_unit',
          clip: 1,
          frames: [{ key: 'requests/r_unit/sample-frames/0000/broken.jpg', t: 0 }],
          frame_interval_s: 1,
          params,
        },
        deps(new RedMeansCar()),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_FRAME', retryable: false });
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      runStageOnce(
        detectObjects,
        {
          namespace: 'default',
          request_id: 'r_unit',
          clip: 2,
          frames: frames(2),
          frame_interval_s: 1,
          params,
        },
        { ...deps(new RedMeansCar()), signal: controller.signal },
      ),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
