import { join } from 'node:path';
import type { ClipBoundary, ClipPiece } from '../../common/contracts/stages.js';
import { InputError, InternalError } from '../../common/errors.js';
import { probeInput } from '../../common/ffmpeg/media-errors.js';
import { keyframeTimes, listPackets } from '../../common/ffmpeg/packets.js';
import { firstAudioStream, mainVideoStream, parseSeconds } from '../../common/ffmpeg/probe.js';
import type { FfmpegDeps, FfmpegRunner } from '../../common/ffmpeg/runner.js';
import { CONTENT_TYPES, downloadObject, uploadFile } from '../../common/ffmpeg/transfer.js';
import { clipId, requestKeys } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import { defineStage } from '../../common/stage.js';
import { type CutWindow, cutWindows, pieceContainer, pieceStartTime } from './piece-plan.js';

/** How far past the clip start a piece may begin and still count as containing it. */
const START_TOLERANCE_S = 0.001;

/** What every piece of one source shares. */
interface Source {
  path: string;
  videoIndex: number;
  audioIndex: number | undefined;
  /** The source's start_time: source time 0 in the file's own timestamps. */
  originS: number;
  durationS: number;
  keyframes: number[];
  container: ReturnType<typeof pieceContainer>;
}

/**
 * cut-clips: splits the source into one piece per clip by stream copy — no
 * re-encoding, so it costs about as much as reading the file. Each piece starts
 * on the keyframe at or before its clip; the exact range inside it is recorded
 * (offset_s) and cut precisely by transcode-clip, which re-encodes anyway.
 * Timestamps are kept (-copyts) so the piece's start can be measured, not guessed.
 */
export const cutClips = defineStage<'cut-clips', FfmpegDeps>({
  name: 'cut-clips',
  async run(input, { store, ffmpeg, signal, logger }) {
    return ffmpeg.withTempDir(async (dir) => {
      const path = join(dir, 'source');
      await downloadObject(store, input.source_key, path, signal);
      const source = await describeSource(ffmpeg, path, signal);
      const outside = input.clips.filter((c) => c.start >= source.durationS);
      if (outside.length > 0) {
        throw new InputError('CLIP_OUT_OF_RANGE', 'clips start after the end of the source', {
          details: { duration_s: source.durationS, clips: outside.map((c) => c.index) },
        });
      }
      logger.info({ keyframes: source.keyframes.length, clips: input.clips.length }, 'cutting pieces');

      // Cut everything first, upload after: a failure half-way leaves nothing in the store.
      const keys = requestKeys(input.request_id);
      const cut: Array<{ piece: ClipPiece; local: string }> = [];
      for (const clip of input.clips) {
        const name = `piece-${clipId(clip.index)}.${source.container.ext}`;
        const local = join(dir, name);
        const pieceStart = await cutPiece(ffmpeg, source, clip, local, signal, logger);
        const piece: ClipPiece = {
          index: clip.index,
          piece_key: keys.stageFile('cut-clips', name),
          piece_start_s: pieceStart,
          start: clip.start,
          end: clip.end,
          offset_s: Math.max(0, clip.start - pieceStart),
        };
        cut.push({ piece, local });
      }
      for (const { piece, local } of cut) {
        await uploadFile(store, piece.piece_key, local, CONTENT_TYPES[source.container.ext]);
      }
      return { pieces: cut.map((c) => c.piece) };
    });
  },
});

async function describeSource(ffmpeg: FfmpegRunner, path: string, signal: AbortSignal): Promise<Source> {
  const probe = await probeInput(ffmpeg, path, signal);
  const video = mainVideoStream(probe);
  if (!video) throw new InputError('NO_VIDEO_STREAM', 'the source has no video stream');
  const originS = parseSeconds(probe.format?.start_time) ?? 0;
  const packets = await listPackets(ffmpeg, path, video.index, { signal });
  return {
    path,
    videoIndex: video.index,
    audioIndex: firstAudioStream(probe)?.index,
    originS,
    durationS: parseSeconds(probe.format?.duration) ?? Number.POSITIVE_INFINITY,
    keyframes: keyframeTimes(packets).map((t) => t - originS),
    container: pieceContainer(probe.format?.format_name),
  };
}

/** Cuts one piece and returns the source time of its first frame. */
async function cutPiece(
  ffmpeg: FfmpegRunner,
  source: Source,
  clip: ClipBoundary,
  output: string,
  signal: AbortSignal,
  logger: Logger,
): Promise<number> {
  // A piece starting on the source's first keyframe is as early as it gets, even if the clip
  // asks for earlier (MPEG-TS audio often starts a frame or two before the video).
  const containsStart = (s: number) =>
    s <= clip.start + START_TOLERANCE_S || s <= (source.keyframes[0] ?? 0) + START_TOLERANCE_S;
  const attempts = cutWindows(clip, source.keyframes);
  for (const [i, window] of attempts.entries()) {
    const start = await copyRange(ffmpeg, source, window, output, signal);
    if (start !== undefined && containsStart(start)) return start;
    logger.debug(
      { clip: clip.index, attempt: i, seek_s: window.seekS, piece_start_s: start },
      'seek landed past the clip',
    );
  }
  throw new InternalError(`no stream copy for clip ${clip.index} starts before the clip`, {
    retryable: false,
    details: { start: clip.start, keyframes: source.keyframes.length },
  });
}

/** Stream-copies one window; returns the source time of the piece's first keyframe, undefined if it has none. */
async function copyRange(
  ffmpeg: FfmpegRunner,
  source: Source,
  window: CutWindow,
  output: string,
  signal: AbortSignal,
): Promise<number | undefined> {
  await ffmpeg.run(
    [
      '-copyts', // keep the source's timestamps, so the piece says where it starts
      ...(window.seekS === undefined ? [] : ['-ss', window.seekS.toFixed(6)]),
      '-t',
      window.readS.toFixed(6),
      '-i',
      source.path,
      '-map',
      `0:${source.videoIndex}`,
      ...(source.audioIndex === undefined ? [] : ['-map', `0:${source.audioIndex}`]),
      '-c',
      'copy',
      '-f',
      source.container.format,
      output,
    ],
    { signal },
  );
  // The video is the piece's first stream; its first keyframe is where decoding can start.
  const firstKey = (await listPackets(ffmpeg, output, 0, { signal, limit: 100 })).find((p) => p.key);
  return firstKey === undefined ? undefined : pieceStartTime(firstKey.pts - source.originS, source.keyframes);
}
