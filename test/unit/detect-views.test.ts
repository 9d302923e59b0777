import { describe, expect, it } from 'vitest';
import type { RawDetection, RgbImage } from '../../functions/detect-objects/detector.js';
import { applySupportRule, type FrameCandidates } from '../../functions/detect-objects/support.js';
import { frameViews, letterbox, PAD_GREY, squareTiles } from '../../functions/detect-objects/views.js';

/** A w×h image whose pixel (x, y) is (x, y, 7): every pixel says where it came from. */
function coordinateImage(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data.set([x, y, 7], (y * w + x) * 3);
  }
  return { data, width: w, height: h };
}
const pixel = (img: RgbImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

describe('letterbox', () => {
  it('centres a landscape frame on a grey square, pixels unscaled and unsquashed', () => {
    const { image } = letterbox(coordinateImage(16, 9));
    expect([image.width, image.height]).toEqual([16, 16]);
    // (16 − 9) / 2 → 3 rows of grey above, 4 below.
    for (const y of [0, 1, 2, 12, 13, 14, 15]) {
      for (const x of [0, 7, 15]) expect(pixel(image, x, y)).toEqual([PAD_GREY, PAD_GREY, PAD_GREY]);
    }
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 16; x++) expect(pixel(image, x, y + 3)).toEqual([x, y, 7]);
    }
  });

  it('pads a portrait frame left and right', () => {
    const { image } = letterbox(coordinateImage(4, 10));
    expect([image.width, image.height]).toEqual([10, 10]);
    expect(pixel(image, 2, 5)).toEqual([PAD_GREY, PAD_GREY, PAD_GREY]);
    expect(pixel(image, 3, 5)).toEqual([0, 5, 7]);
    expect(pixel(image, 6, 9)).toEqual([3, 9, 7]);
    expect(pixel(image, 7, 9)).toEqual([PAD_GREY, PAD_GREY, PAD_GREY]);
  });

  it('maps a box on the square back to the frame', () => {
    const view = letterbox(coordinateImage(16, 9));
    // The whole picture area of the square is the whole frame.
    const whole = view.toFrame([0, 3 / 16, 1, 9 / 16]);
    for (const [i, v] of whole.entries()) expect(v).toBeCloseTo([0, 0, 1, 1][i]!, 9);
  });
});

describe('square tiles', () => {
  it('covers a 16:9 frame with 3 squares as tall as the frame, first and last at the edges', () => {
    expect(squareTiles({ width: 640, height: 360 })).toEqual([
      { x: 0, y: 0, side: 360 },
      { x: 140, y: 0, side: 360 },
      { x: 280, y: 0, side: 360 },
    ]);
    expect(squareTiles({ width: 480, height: 360 })).toEqual([
      { x: 0, y: 0, side: 360 },
      { x: 120, y: 0, side: 360 },
    ]);
    expect(squareTiles({ width: 50, height: 50 })).toEqual([{ x: 0, y: 0, side: 50 }]);
    expect(squareTiles({ width: 360, height: 640 })).toEqual([
      { x: 0, y: 0, side: 360 },
      { x: 0, y: 140, side: 360 },
      { x: 0, y: 280, side: 360 },
    ]);
  });

  it('feeds the model the exact pixels of each tile and maps boxes back', () => {
    const views = frameViews(coordinateImage(32, 18), 'tiles');
    expect(views.map((v) => [v.image.width, v.image.height])).toEqual([
      [18, 18],
      [18, 18],
      [18, 18],
    ]);
    expect(pixel(views[1]!.image, 0, 0)).toEqual([7, 0, 7]);
    expect(pixel(views[2]!.image, 17, 17)).toEqual([31, 17, 7]);
    // The right half of the last tile is the right 9 columns of the frame.
    const box = views[2]!.toFrame([0.5, 0, 0.5, 1]);
    for (const [i, v] of [23 / 32, 0, 9 / 32, 1].entries()) expect(box[i]).toBeCloseTo(v, 9);
  });
});

describe('both views', () => {
  it('is the letterbox and then the tiles; a square frame is shown once', () => {
    const views = frameViews(coordinateImage(32, 18), 'both');
    expect(views.map((v) => [v.image.width, v.image.height])).toEqual([
      [32, 32],
      [18, 18],
      [18, 18],
      [18, 18],
    ]);
    expect(frameViews(coordinateImage(20, 20), 'both')).toHaveLength(1);
  });
});

describe('temporal support rule (≥ min_score alone, or ≥ support_score in 2 of 3 neighbouring frames)', () => {
  const params = { min_score: 0.3, support_score: 0.15, support_frames: 2 };
  const d = (label: string, score: number): RawDetection => ({ label, score, box: [0, 0, 1, 1] });
  /** Scores per frame of one label ("-" = not seen) → which frames keep it. */
  const kept = (scores: Array<number | '-'>): boolean[] => {
    const frames: FrameCandidates[] = scores.map((s, t) => ({
      t,
      detections: s === '-' ? [] : [d('car', s)],
    }));
    return applySupportRule(frames, params).map((f) => f.detections.length > 0);
  };

  it.each([
    { name: 'a strong detection stands alone', scores: ['-', 0.35, '-'], want: [false, true, false] },
    { name: 'a weak one-off is dropped', scores: ['-', 0.2, '-'], want: [false, false, false] },
    { name: 'two weak neighbours support each other', scores: ['-', 0.2, 0.16], want: [false, true, true] },
    {
      name: 'a weak frame next to a strong one is supported',
      scores: [0.5, 0.18, '-'],
      want: [true, true, false],
    },
    {
      name: 'weak frames two apart do not support each other',
      scores: [0.2, '-', 0.2],
      want: [false, false, false],
    },
    { name: 'below the support floor never counts', scores: [0.14, 0.14, 0.14], want: [false, false, false] },
    {
      name: 'a steady weak run is kept end to end',
      scores: [0.2, 0.2, 0.2, 0.2],
      want: [true, true, true, true],
    },
    { name: 'a one-frame clip keeps only a strong detection', scores: [0.25], want: [false] },
  ] as const)('$name', ({ scores, want }) => {
    expect(kept([...scores])).toEqual(want);
  });

  it('supports each label on its own', () => {
    const frames: FrameCandidates[] = [
      { t: 0, detections: [d('car', 0.2)] },
      { t: 1, detections: [d('dog', 0.2)] },
      { t: 2, detections: [d('car', 0.2), d('dog', 0.4)] },
    ];
    expect(applySupportRule(frames, params).map((f) => f.detections.map((x) => x.label))).toEqual([
      [],
      ['dog'],
      ['dog'],
    ]);
  });
});
