import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../common/errors.js';
import { asUnreadable } from '../../common/ffmpeg/media-errors.js';
import type { ProbeJson, ProbeStream } from '../../common/ffmpeg/probe.js';
import type { FfmpegRunner } from '../../common/ffmpeg/runner.js';

/**
 * AVI stores decode times only. ffmpeg derives presentation times (pts) from
 * them by itself for video without B-frames; with B-frames most packets have
 * none, and a stream copy into a Matroska piece fails ("Can't write packet
 * with unknown timestamp"). How to read a source so that every packet has one:
 *   - `as-is`:  the container has them (everything but AVI), or no B-frames;
 *   - `genpts`: ffmpeg generates them (`-fflags +genpts`) from the picture types
 *     its parser sees — right for MPEG-1/2 and MPEG-4 Part 2;
 *   - `unpack`: MPEG-4 Part 2 (DivX, Xvid) usually also *packs* B-frames (a P-frame
 *     and the next B-frame in one chunk, then an empty placeholder), which genpts
 *     times wrongly: first remux with `mpeg4_unpack_bframes`, then genpts;
 *   - `untimed`: other codecs with B-frames (H.264, HEVC): ffmpeg cannot generate
 *     their times without decoding, and a guess drops frames — refused.
 */
export type TimingPlan = 'as-is' | 'genpts' | 'unpack' | 'untimed';

const GENPTS_CODECS = new Set(['mpeg1video', 'mpeg2video']);

export function timingPlan(formatName: string | undefined, video: ProbeStream): TimingPlan {
  if (!formatName?.split(',').includes('avi') || !video.has_b_frames) return 'as-is';
  if (video.codec_name === 'mpeg4') return 'unpack';
  return GENPTS_CODECS.has(video.codec_name ?? '') ? 'genpts' : 'untimed';
}

/** The file to cut, and the input options every ffmpeg/ffprobe read of it needs. */
export interface TimedSource {
  path: string;
  inputOptions: readonly string[];
}

const GENPTS = ['-fflags', '+genpts'] as const;

/**
 * The source as a file whose packets all have presentation times when read
 * with `inputOptions` (see TimingPlan). An `unpack` source is remuxed into
 * `dir` with the same streams in the same order, so `probe` still describes
 * it; the original is then removed (nothing reads it again, and it would
 * double the disk used).
 */
export async function timedSource(
  ffmpeg: FfmpegRunner,
  source: { path: string; probe: ProbeJson; video: ProbeStream },
  dir: string,
  signal: AbortSignal,
): Promise<TimedSource> {
  const { path, probe, video } = source;
  const plan = timingPlan(probe.format?.format_name, video);
  switch (plan) {
    case 'as-is':
      return { path, inputOptions: [] };
    case 'genpts':
      return { path, inputOptions: GENPTS };
    case 'untimed':
      throw new InputError(
        'MISSING_TIMESTAMPS',
        `the AVI's ${video.codec_name ?? 'unknown'} video has B-frames but no presentation times (AVI keeps none), so it cannot be cut without re-encoding`,
        { details: { container: 'avi', codec: video.codec_name, has_b_frames: video.has_b_frames } },
      );
    case 'unpack': {
      const unpacked = join(dir, 'source-unpacked.avi');
      await ffmpeg
        .run(
          [
            ...['-i', path, '-map', '0', '-c', 'copy'],
            ...[`-bsf:${video.index}`, 'mpeg4_unpack_bframes', '-f', 'avi', unpacked],
          ],
          { signal },
        )
        .catch((err: unknown) => {
          throw asUnreadable(err);
        });
      await rm(path, { force: true });
      return { path: unpacked, inputOptions: GENPTS };
    }
  }
}
