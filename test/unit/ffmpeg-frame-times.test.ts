import { describe, expect, it } from 'vitest';
import {
  frameTimesFilters,
  middleIndex,
  parseFrameTimes,
  sampledFrameTimes,
} from '../../functions/sample-frames/frame-times.js';

/** Packet times of a constant-rate video. */
const cfr = (fps: number, frames: number, start = 0) =>
  Array.from({ length: frames }, (_, i) => start + i / fps);

describe('sampledFrameTimes', () => {
  it('at a rate dividing the frame rate, frame i is exactly at i / rate', () => {
    expect(sampledFrameTimes(cfr(30, 90), 3, 1)).toEqual([0, 1, 2]);
    expect(sampledFrameTimes(cfr(30, 90), 6, 2)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });

  it('otherwise, the frame on screen at i / rate (the last one not after it)', () => {
    // 0.7 fps: ticks at 0, 1.428…, 2.857… → frames 42 (1.4 s) and 85 (2.8333 s) at 30 fps.
    expect(sampledFrameTimes(cfr(30, 100), 3, 0.7)).toEqual([0, 1.4, 2.833333]);
  });

  it('measures from the first frame, whatever the stream start, and accepts packets out of order', () => {
    const shuffled = [0.1, 0.3, 0.2, 0.5, 0.4, 0.6];
    expect(sampledFrameTimes(shuffled, 3, 4)).toEqual([0, 0.2, 0.5]);
  });

  it('repeats the last frame when asked for more ticks than there are frames', () => {
    expect(sampledFrameTimes([0, 1], 4, 2)).toEqual([0, 0, 1, 1]);
  });

  it('picks the middle frame for the thumbnail', () => {
    expect(middleIndex(1)).toBe(0);
    expect(middleIndex(2)).toBe(0);
    expect(middleIndex(5)).toBe(2);
    expect(middleIndex(6)).toBe(2);
  });
});

describe('frame times written by ffmpeg (metadata=print)', () => {
  it('reads the microsecond pts of every frame, ignoring the metadata lines between', () => {
    const log = [
      'frame:0    pts:0       pts_time:0',
      'clipseek=1',
      'frame:1    pts:40000   pts_time:0.04',
      'clipseek=1',
      'frame:152  pts:6080000 pts_time:6.08',
      'clipseek=1',
      '',
    ].join('\n');
    expect(parseFrameTimes(log)).toEqual([0, 0.04, 6.08]);
    expect(parseFrameTimes('')).toEqual([]);
  });

  it('names the times file plainly, so no filter-graph escaping is needed', () => {
    expect(frameTimesFilters('frame-times.txt').at(-1)).toBe('metadata=mode=print:file=frame-times.txt');
    expect(() => frameTimesFilters('/tmp/a:b,c.txt')).toThrow();
  });
});
