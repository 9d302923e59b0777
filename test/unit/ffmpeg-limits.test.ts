import { describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors.js';
import { contentEndS, frameTooLarge, MEDIA_LIMITS, videoPacketBudget } from '../../common/ffmpeg/limits.js';
import { parsePacketLine } from '../../common/ffmpeg/packets.js';

describe('limits on what a file may hold past its header', () => {
  it('content may run a little past the declared duration, not far', () => {
    expect(contentEndS(10)).toBeCloseTo(12.1, 6);
    expect(contentEndS(6 * 3600)).toBeCloseTo(6 * 3600 * 1.01 + 2, 6);
  });

  it('video packets: maxFps for every second up to the content end, never more than maxVideoPackets', () => {
    expect(videoPacketBudget(MEDIA_LIMITS, 10)).toBe(Math.ceil(12.1 * 240));
    expect(videoPacketBudget(MEDIA_LIMITS, 6 * 3600)).toBe(MEDIA_LIMITS.maxVideoPackets);
    expect(videoPacketBudget(MEDIA_LIMITS, Number.POSITIVE_INFINITY)).toBe(MEDIA_LIMITS.maxVideoPackets);
    expect(videoPacketBudget({ ...MEDIA_LIMITS, maxVideoPackets: 10_000 }, 600)).toBe(10_000);
  });
});

describe('frameTooLarge', () => {
  it("reads libavutil's refusal of a frame over -max_pixels as MEDIA_LIMITS_EXCEEDED", () => {
    const stderr =
      '[mjpeg @ 0x5590c99960c0] [IMGUTILS @ 0x7ffd56ea8740] Picture size 16000x16000 exceeds specified max pixel count 33177600, see the documentation if you wish to increase it\nError while decoding stream #0:0: Invalid argument\n';
    const cause = new Error('ffmpeg exited with code 1');
    const err = frameTooLarge(stderr, cause);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({
      code: 'MEDIA_LIMITS_EXCEEDED',
      status: 422,
      retryable: false,
      details: { frame_width: 16000, frame_height: 16000, max_pixels: 33177600 },
      cause,
    });
  });

  it('says nothing about other errors', () => {
    expect(frameTooLarge('Error while decoding stream #0:0: Invalid data found when processing input')).toBe(
      undefined,
    );
    expect(frameTooLarge('')).toBe(undefined);
  });
});

describe('parsePacketLine', () => {
  it("reads ffprobe's compact packet lines", () => {
    expect(parsePacketLine('pts_time=1.000000|dts_time=0.958333|flags=K_')).toEqual({
      pts: 1,
      dts: 0.958333,
      key: true,
    });
    expect(parsePacketLine('pts_time=N/A|dts_time=2.500000|flags=__')).toEqual({
      pts: undefined,
      dts: 2.5,
      key: false,
    });
  });

  it('skips lines that are not packets', () => {
    expect(parsePacketLine('')).toBeUndefined();
    expect(parsePacketLine('side_data_type=New extradata')).toBeUndefined();
  });
});
