import { InputError } from '../errors.js';

/**
 * What we accept. A header can claim anything: these bounds are checked
 * against the header first (extract-audio), then against what the streams
 * really hold — packets read (packets.ts), audio decoded, frames decoded
 * (`-max_pixels` on every input, see inputs.ts).
 */
export interface MediaLimits {
  maxDurationS: number;
  /** 8K UHD, either orientation. */
  maxLongSide: number;
  maxShortSide: number;
  maxFps: number;
  /**
   * Video packets one source may hold, whatever its header says: listing its
   * keyframes reads every one of them.
   */
  maxVideoPackets: number;
}

export const MEDIA_LIMITS: MediaLimits = {
  maxDurationS: 6 * 3600,
  maxLongSide: 7680,
  maxShortSide: 4320,
  maxFps: 240,
  maxVideoPackets: 6 * 3600 * 240,
};

/** The largest frame (width × height) a decoder may produce: an 8K frame. */
export const MAX_FRAME_PIXELS = MEDIA_LIMITS.maxLongSide * MEDIA_LIMITS.maxShortSide;

/**
 * How far past its declared duration a file may still hold content (streams
 * rarely end exactly together, and some containers round or estimate their
 * duration). Anything further means the header understates the content.
 */
const END_SLACK_S = 2;
const END_SLACK_RATIO = 0.01;

/** Where a file declared `durationS` long must end, counted from its start (seconds). */
export function contentEndS(durationS: number): number {
  return durationS + END_SLACK_S + durationS * END_SLACK_RATIO;
}

/**
 * Video packets a file `durationS` long may hold: at most maxFps of them for
 * every second up to contentEndS, and never more than maxVideoPackets.
 */
export function videoPacketBudget(limits: MediaLimits, durationS: number): number {
  const byDuration = Number.isFinite(durationS)
    ? Math.ceil(contentEndS(durationS) * limits.maxFps)
    : Number.POSITIVE_INFINITY;
  return Math.min(limits.maxVideoPackets, byDuration);
}

/** What stages that check media against the limits get in their deps (default MEDIA_LIMITS). */
export interface MediaLimitDeps {
  limits?: MediaLimits | undefined;
}

/** The media holds more than it declares, or more than we accept: a non-retryable 422. */
export function limitsExceeded(
  message: string,
  details: Record<string, unknown>,
  cause?: unknown,
): InputError {
  return new InputError('MEDIA_LIMITS_EXCEEDED', message, { details, cause });
}

/**
 * A decoder refusing a frame over `-max_pixels` says so only in ffmpeg's log
 * (libavutil's av_image_check_size2); the exit code is that of any decoding
 * error, or 0 when other frames decoded. This line is the only report of it.
 */
const MAX_PIXELS_REFUSAL = /Picture size (\d+)x(\d+) exceeds specified max pixel count (\d+)/;

/** MEDIA_LIMITS_EXCEEDED if ffmpeg/ffprobe's stderr shows a frame refused by `-max_pixels`. */
export function frameTooLarge(stderr: string, cause?: unknown): InputError | undefined {
  const m = MAX_PIXELS_REFUSAL.exec(stderr);
  if (!m) return undefined;
  return limitsExceeded(
    'a video frame is larger than this service accepts',
    { frame_width: Number(m[1]), frame_height: Number(m[2]), max_pixels: Number(m[3]) },
    cause,
  );
}
