import { describe, expect, it } from 'vitest';
import {
  cutWindows,
  END_MARGIN_S,
  firstPacketPts,
  lastIndexAtOrBefore,
  pieceContainer,
  pieceStartTime,
  SEEK_PAST_KEYFRAME_S,
} from '../../functions/cut-clips/piece-plan.js';
import { timingPlan } from '../../functions/cut-clips/timed-source.js';

const KEYFRAMES = [0, 8.333333, 16.666667];

describe('cut-clips planning', () => {
  it('finds the last keyframe at or before a time', () => {
    expect(lastIndexAtOrBefore(KEYFRAMES, 0)).toBe(0);
    expect(lastIndexAtOrBefore(KEYFRAMES, 8.333333)).toBe(1);
    expect(lastIndexAtOrBefore(KEYFRAMES, 8.3)).toBe(0);
    expect(lastIndexAtOrBefore(KEYFRAMES, 20)).toBe(2);
    expect(lastIndexAtOrBefore([1.5], 1)).toBe(-1);
  });

  it('clips in the first GOP are copied from the start, with no seek', () => {
    expect(cutWindows({ index: 0, start: 2, end: 5 }, KEYFRAMES)).toEqual([
      { seekS: undefined, readS: 5 + END_MARGIN_S },
    ]);
  });

  it('later clips seek just past their keyframe, then half-way back, then from the start', () => {
    const windows = cutWindows({ index: 1, start: 10, end: 12 }, KEYFRAMES);
    expect(windows.map((w) => w.seekS)).toEqual([
      8.333333 + SEEK_PAST_KEYFRAME_S,
      (0 + 8.333333) / 2,
      undefined,
    ]);
    // Every window reads to the same point: the clip's end plus the margin.
    for (const w of windows) expect((w.seekS ?? 0) + w.readS).toBeCloseTo(12 + END_MARGIN_S, 9);
  });

  it('never seeks past the next keyframe when keyframes are close together', () => {
    const dense = [0, 0.1, 0.2, 0.3];
    const [first] = cutWindows({ index: 0, start: 0.25, end: 1 }, dense);
    expect(first!.seekS).toBeCloseTo(0.25, 9);
    expect(first!.seekS!).toBeLessThan(0.3);
  });

  it('snaps a measured piece start to the source keyframe it matches', () => {
    expect(pieceStartTime(8.333008, KEYFRAMES)).toBe(8.333333);
    expect(pieceStartTime(8.333, KEYFRAMES)).toBe(8.333333);
    expect(pieceStartTime(5, KEYFRAMES)).toBe(5);
    expect(pieceStartTime(3, [])).toBe(3);
  });

  it('cuts mov-family sources into .mov and everything else into Matroska', () => {
    expect(pieceContainer('mov,mp4,m4a,3gp,3g2,mj2')).toEqual({ ext: 'mov', format: 'mov' });
    expect(pieceContainer('mpegts')).toEqual({ ext: 'mkv', format: 'matroska' });
    expect(pieceContainer('matroska,webm')).toEqual({ ext: 'mkv', format: 'matroska' });
    expect(pieceContainer(undefined)).toEqual({ ext: 'mkv', format: 'matroska' });
  });
});

describe("firstPacketPts (framecrc of a piece's first packet)", () => {
  const header = ['#extradata 0:       45, 0x2a320e38', '#software: Lavf59.27.100', '#tb 0: 1/12800'];
  it("is the pts of the first packet line, in seconds of its stream's time base", () => {
    const crc = [
      ...header,
      '#media_type 0: video',
      '0,      50176,      51200,      512,     9819, 0x0d69324a',
    ];
    expect(firstPacketPts(crc.join('\n'))).toBe(4);
    const ts = ['#tb 0: 1/90000', '0,     126000,     129003,     3003,    812, 0x1, F=0x0'];
    expect(firstPacketPts(ts.join('\n'))).toBeCloseTo(1.4333667, 6);
  });

  it('is undefined with no packet or no time base', () => {
    expect(firstPacketPts(header.join('\n'))).toBeUndefined();
    expect(firstPacketPts('0, 1, 2, 3, 4, 0x0')).toBeUndefined();
  });
});

describe('timingPlan: how a source is read so that every packet has a presentation time', () => {
  const video = (codec_name: string, has_b_frames: number) => ({ index: 0, codec_name, has_b_frames });

  it('reads non-AVI containers, and AVI without B-frames, as they are', () => {
    expect(timingPlan('mov,mp4,m4a,3gp,3g2,mj2', video('h264', 2))).toBe('as-is');
    expect(timingPlan('matroska,webm', video('mpeg4', 1))).toBe('as-is');
    expect(timingPlan('avi', video('h264', 0))).toBe('as-is');
    expect(timingPlan('avi', { index: 0, codec_name: 'mjpeg' })).toBe('as-is');
  });

  it('unpacks MPEG-4 Part 2 (DivX, Xvid) with B-frames in AVI, generates times for MPEG-1/2', () => {
    expect(timingPlan('avi', video('mpeg4', 1))).toBe('unpack');
    expect(timingPlan('avi', video('mpeg2video', 1))).toBe('genpts');
    expect(timingPlan('avi', video('mpeg1video', 1))).toBe('genpts');
  });

  it('cannot time other codecs with B-frames in AVI', () => {
    expect(timingPlan('avi', video('h264', 2))).toBe('untimed');
    expect(timingPlan('avi', video('hevc', 1))).toBe('untimed');
  });
});
