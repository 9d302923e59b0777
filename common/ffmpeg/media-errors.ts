import { InputError } from '../errors.js';
import { FfmpegError } from './errors.js';
import type { ProbeJson } from './probe.js';
import type { FfmpegRunner } from './runner.js';

/**
 * ffmpeg/ffprobe exiting with an error on a stage's input file means the file
 * is damaged: a non-retryable UNREADABLE_MEDIA. Anything else — killed by a
 * signal (e.g. out of memory), a timeout, a cancellation — is passed through
 * unchanged, since another attempt may succeed.
 */
export function asUnreadable(err: unknown, details: Record<string, unknown> = {}): unknown {
  if (!(err instanceof FfmpegError) || err.exitSignal !== null) return err;
  return new InputError('UNREADABLE_MEDIA', 'the media file is damaged or truncated', {
    details: { ...details, ffmpeg: err.details },
    cause: err,
  });
}

/** ffprobe (format + streams) of a stage's input; UNREADABLE_MEDIA when it cannot be opened. */
export async function probeInput(
  ffmpeg: FfmpegRunner,
  file: string,
  signal: AbortSignal,
): Promise<ProbeJson> {
  try {
    return await ffmpeg.probe(file, { signal });
  } catch (err) {
    throw asUnreadable(err);
  }
}
