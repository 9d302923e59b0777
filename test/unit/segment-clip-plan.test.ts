import { describe, expect, it } from 'vitest';
import type { SegmentParams } from '../../common/contracts/profile.js';
import { resolveProfile } from '../../common/profiles.js';
import {
  fixedWindows,
  mergeClose,
  planSpeechClips,
  type Range,
  tileTimeline,
  toBoundaries,
} from '../../functions/segment-speech/clip-plan.js';

const base: SegmentParams = {
  ...resolveProfile('default').segment,
  pad_s: 0.25,
  min_clip_s: 2,
  max_clip_s: 20,
};

describe('mergeClose', () => {
  it('joins regions separated by less than the gap', () => {
    expect(
      mergeClose(
        [
          [0, 1],
          [1.5, 2],
          [3, 4],
        ],
        0.6,
      ),
    ).toEqual([
      [0, 2],
      [3, 4],
    ]);
    expect(mergeClose([], 1)).toEqual([]);
  });
});

describe('planSpeechClips', () => {
  it('pads each segment and grows short ones to min_clip_s around their centre', () => {
    expect(planSpeechClips([[5, 8]], 30, base)).toEqual([[4.75, 8.25]]);
    expect(planSpeechClips([[5, 5.5]], 30, base)).toEqual([[4.25, 6.25]]);
  });

  it('grows into the side that has room when near the start or end', () => {
    expect(planSpeechClips([[0.1, 0.4]], 30, base)).toEqual([[0, 2]]);
    expect(planSpeechClips([[29.8, 29.9]], 30, base)).toEqual([[28, 30]]);
    expect(planSpeechClips([[0.2, 0.5]], 1, base)).toEqual([[0, 1]]);
  });

  it('cuts overlapping padding in the middle of the silence between segments', () => {
    const clips = planSpeechClips(
      [
        [2, 4],
        [4.3, 7],
      ],
      30,
      base,
    );
    expect(clips).toEqual([
      [1.75, 4.15],
      [4.15, 7.25],
    ]);
  });

  it('splits segments longer than max_clip_s into equal parts', () => {
    const clips = planSpeechClips([[1, 46]], 60, base);
    expect(clips).toHaveLength(3);
    expect(clips[0]![0]).toBe(0.75);
    expect(clips[2]![1]).toBe(46.25);
    for (const [s, e] of clips) expect(e - s).toBeCloseTo(45.5 / 3, 9);
  });

  it('always covers the speech, never overlaps, respects max_clip_s, and is deterministic (random inputs)', () => {
    const random = seeded(42);
    for (let round = 0; round < 300; round++) {
      const duration = 5 + random() * 200;
      const params: SegmentParams = {
        ...base,
        pad_s: random() * 2,
        min_clip_s: 0.5 + random() * 10,
        max_clip_s: 1 + random() * 40,
        merge_gap_s: random() * 3,
      };
      const speech = mergeClose(randomRegions(random, duration), params.merge_gap_s);
      const clips = planSpeechClips(speech, duration, params);
      expect(planSpeechClips(speech, duration, params)).toEqual(clips);
      clips.forEach(([s, e], i) => {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(e).toBeLessThanOrEqual(duration + 1e-9);
        expect(e).toBeGreaterThan(s);
        expect(e - s).toBeLessThanOrEqual(params.max_clip_s + 1e-9);
        if (i > 0) expect(s).toBeGreaterThanOrEqual(clips[i - 1]![1] - 1e-9);
      });
      for (const [s, e] of speech) expect(covered(clips, s, e)).toBe(true);
    }
  });
});

describe('fixedWindows', () => {
  it('covers the whole duration in windows of fallback_clip_s', () => {
    expect(fixedWindows(25, { ...base, fallback_clip_s: 10 })).toEqual([
      [0, 10],
      [10, 20],
      [20, 25],
    ]);
  });

  it('folds a tail shorter than min_clip_s into the window before', () => {
    expect(fixedWindows(21, { ...base, fallback_clip_s: 10, min_clip_s: 2 })).toEqual([
      [0, 10],
      [10, 21],
    ]);
    expect(fixedWindows(3, { ...base, fallback_clip_s: 10 })).toEqual([[0, 3]]);
  });
});

describe('tileTimeline', () => {
  const params = { ...base, min_clip_s: 2, max_clip_s: 20, fallback_clip_s: 10 };

  it('makes clips of the time before, between and after speech', () => {
    // Speech only at the start and the end of 28 s: the middle is two 10 s clips, not skipped.
    expect(
      tileTimeline(
        [
          [0, 3],
          [23, 28],
        ],
        28,
        params,
      ),
    ).toEqual([
      [0, 3],
      [3, 13],
      [13, 23],
      [23, 28],
    ]);
    expect(tileTimeline([[5, 8]], 12, params)).toEqual([
      [0, 5],
      [5, 8],
      [8, 12],
    ]);
  });

  it('folds a stretch shorter than min_clip_s into the shorter neighbour that stays within max_clip_s', () => {
    expect(
      tileTimeline(
        [
          [0, 4],
          [5, 15],
        ],
        15.5,
        params,
      ),
    ).toEqual([
      [0, 5],
      [5, 15.5],
    ]);
    // Neither neighbour has room: the stretch stays a clip of its own.
    expect(
      tileTimeline(
        [
          [0, 19.8],
          [20.3, 40],
        ],
        40,
        params,
      ),
    ).toEqual([
      [0, 19.8],
      [19.8, 20.3],
      [20.3, 40],
    ]);
  });

  it('tiles [0, duration] exactly, keeps every speech clip, respects max_clip_s (random inputs)', () => {
    const random = seeded(7);
    for (let round = 0; round < 300; round++) {
      const duration = 5 + random() * 200;
      const p: SegmentParams = {
        ...base,
        pad_s: random() * 2,
        min_clip_s: 0.5 + random() * 5,
        max_clip_s: 6 + random() * 40,
        fallback_clip_s: 1 + random() * 30,
      };
      const speech = planSpeechClips(mergeClose(randomRegions(random, duration), 0.6), duration, p);
      const tiles = tileTimeline(speech, duration, p);
      expect(tiles[0]![0]).toBe(0);
      expect(tiles.at(-1)![1]).toBeCloseTo(duration, 9);
      tiles.forEach(([s, e], i) => {
        expect(e).toBeGreaterThan(s);
        expect(e - s).toBeLessThanOrEqual(p.max_clip_s + 1e-9);
        if (i > 0) expect(s).toBe(tiles[i - 1]![1]);
      });
      for (const [s, e] of speech) expect(covered(tiles, s, e)).toBe(true);
    }
  });
});

describe('toBoundaries', () => {
  it('indexes clips and rounds to the millisecond', () => {
    expect(toBoundaries([[0.12345, 2.0004]])).toEqual([{ index: 0, start: 0.123, end: 2 }]);
  });
});

function covered(clips: Range[], s: number, e: number): boolean {
  // Union of clips ⊇ [s, e]: walk the clips in order.
  let reach = s;
  for (const [cs, ce] of clips) if (cs <= reach + 1e-9 && ce > reach) reach = ce;
  return reach >= e - 1e-9;
}

function randomRegions(random: () => number, duration: number): Range[] {
  const regions: Range[] = [];
  let t = random() * 3;
  while (t < duration) {
    const end = Math.min(duration, t + 0.05 + random() * 30);
    regions.push([t, end]);
    t = end + 0.01 + random() * 8;
  }
  return regions;
}

function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}
