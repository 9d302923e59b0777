import type { MediaProbe } from '../../common/contracts/stages.js';
import { InputError } from '../../common/errors.js';
import { MEDIA_LIMITS, type MediaLimits } from '../../common/ffmpeg/limits.js';
import {
  displaySize,
  firstAudioStream,
  mainVideoStream,
  type ProbeJson,
  type ProbeStream,
  parseRate,
  parseSeconds,
} from '../../common/ffmpeg/probe.js';

/**
 * ffprobe's JSON → the MediaProbe of the contract, or an InputError with a
 * stable code: NO_VIDEO_STREAM, UNREADABLE_MEDIA (fields missing),
 * MEDIA_LIMITS_EXCEEDED (what the header declares is over the limits; what
 * the streams really hold is checked where they are read).
 */
export function describeMedia(
  probe: ProbeJson,
  sizeBytes: number,
  limits: MediaLimits = MEDIA_LIMITS,
): MediaProbe {
  const video = mainVideoStream(probe);
  if (!video) {
    throw new InputError('NO_VIDEO_STREAM', 'the file has no video stream', {
      details: { streams: (probe.streams ?? []).map((s) => s.codec_type ?? 'unknown') },
    });
  }
  const duration = parseSeconds(probe.format?.duration) ?? parseSeconds(video.duration);
  const fps = parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate);
  const { width, height } = displaySize(video);
  if (duration === undefined || duration <= 0 || fps === undefined || !width || !height) {
    throw new InputError('UNREADABLE_MEDIA', 'the video stream lacks a duration, frame rate or size', {
      details: { duration, fps, width, height },
    });
  }
  const longSide = Math.max(width, height);
  const shortSide = Math.min(width, height);
  if (
    duration > limits.maxDurationS ||
    longSide > limits.maxLongSide ||
    shortSide > limits.maxShortSide ||
    fps > limits.maxFps
  ) {
    throw new InputError(
      'MEDIA_LIMITS_EXCEEDED',
      'the video is longer, larger or faster than this service accepts',
      {
        details: { duration_s: duration, width, height, fps, limits },
      },
    );
  }
  return {
    format_name: probe.format?.format_name ?? 'unknown',
    duration_s: duration,
    size_bytes: sizeBytes,
    video: { codec: video.codec_name ?? 'unknown', width, height, fps },
    audio: describeAudio(firstAudioStream(probe)),
  };
}

/** An audio stream we can decode, or null (then a silent track stands in). */
function describeAudio(stream: ProbeStream | undefined): MediaProbe['audio'] {
  const sampleRate = Number(stream?.sample_rate);
  if (!stream?.codec_name || !Number.isInteger(sampleRate) || sampleRate <= 0 || !stream.channels)
    return null;
  return { codec: stream.codec_name, sample_rate: sampleRate, channels: stream.channels };
}
