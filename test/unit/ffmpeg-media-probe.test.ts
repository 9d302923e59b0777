import { describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors.js';
import { MEDIA_LIMITS } from '../../common/ffmpeg/limits.js';
import { evenAtMost, type ProbeJson, parseRate, parseSeconds } from '../../common/ffmpeg/probe.js';
import { describeMedia } from '../../functions/extract-audio/media-probe.js';

const video = (extra: Record<string, unknown> = {}) => ({
  index: 0,
  codec_type: 'video',
  codec_name: 'h264',
  width: 1280,
  height: 720,
  avg_frame_rate: '30000/1001',
  r_frame_rate: '30000/1001',
  ...extra,
});
const audio = { index: 1, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 };
const probeOf = (streams: ProbeJson['streams'], duration = '12.5'): ProbeJson => ({
  format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration },
  streams,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).code;
  }
  return undefined;
}

describe('describeMedia', () => {
  it('maps ffprobe JSON to the MediaProbe contract', () => {
    expect(describeMedia(probeOf([video(), audio]), 1234)).toEqual({
      format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
      duration_s: 12.5,
      size_bytes: 1234,
      video: { codec: 'h264', width: 1280, height: 720, fps: 30000 / 1001 },
      audio: { codec: 'aac', sample_rate: 48000, channels: 2 },
    });
  });

  it('reports the displayed size of rotated (portrait phone) video', () => {
    const rotated = video({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] });
    expect(describeMedia(probeOf([rotated]), 1).video).toMatchObject({ width: 720, height: 1280 });
  });

  it('has audio null when there is no decodable audio stream', () => {
    expect(describeMedia(probeOf([video()]), 1).audio).toBeNull();
    expect(describeMedia(probeOf([video(), { ...audio, sample_rate: '0' }]), 1).audio).toBeNull();
  });

  it('NO_VIDEO_STREAM for audio-only files and for cover art alone', () => {
    expect(codeOf(() => describeMedia(probeOf([audio]), 1))).toBe('NO_VIDEO_STREAM');
    const coverArt = video({ codec_name: 'mjpeg', disposition: { attached_pic: 1 } });
    expect(codeOf(() => describeMedia(probeOf([audio, coverArt]), 1))).toBe('NO_VIDEO_STREAM');
  });

  it('UNREADABLE_MEDIA when duration, frame rate or size are missing', () => {
    expect(codeOf(() => describeMedia(probeOf([video()], 'N/A'), 1))).toBe('UNREADABLE_MEDIA');
    expect(
      codeOf(() => describeMedia(probeOf([video({ avg_frame_rate: '0/0', r_frame_rate: '0/0' })]), 1)),
    ).toBe('UNREADABLE_MEDIA');
    expect(codeOf(() => describeMedia(probeOf([video({ width: undefined })]), 1))).toBe('UNREADABLE_MEDIA');
  });

  it('MEDIA_LIMITS_EXCEEDED for absurd header values', () => {
    const tooLong = String(MEDIA_LIMITS.maxDurationS + 1);
    expect(codeOf(() => describeMedia(probeOf([video()], tooLong), 1))).toBe('MEDIA_LIMITS_EXCEEDED');
    expect(codeOf(() => describeMedia(probeOf([video({ width: 7681, height: 100 })]), 1))).toBe(
      'MEDIA_LIMITS_EXCEEDED',
    );
    expect(codeOf(() => describeMedia(probeOf([video({ width: 4400, height: 4400 })]), 1))).toBe(
      'MEDIA_LIMITS_EXCEEDED',
    );
    expect(codeOf(() => describeMedia(probeOf([video({ avg_frame_rate: '1000/1' })]), 1))).toBe(
      'MEDIA_LIMITS_EXCEEDED',
    );
    // 8K itself, portrait or landscape, is fine.
    expect(describeMedia(probeOf([video({ width: 4320, height: 7680 })]), 1).video.height).toBe(7680);
  });
});

describe('probe value helpers', () => {
  it('parses rates, seconds and even sizes', () => {
    expect(parseRate('25/1')).toBe(25);
    expect(parseRate('0/0')).toBeUndefined();
    expect(parseRate(undefined)).toBeUndefined();
    expect(parseRate('24')).toBe(24);
    expect(parseSeconds('1.500000')).toBe(1.5);
    expect(parseSeconds('N/A')).toBeUndefined();
    expect(parseSeconds('')).toBeUndefined();
    expect(evenAtMost(721, 1080)).toBe(720);
    expect(evenAtMost(1080, 360)).toBe(360);
    expect(evenAtMost(1, 360)).toBe(2);
  });
});
