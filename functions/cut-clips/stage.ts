import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ClipBoundary, ClipPiece } from '../../common/contracts/stages.js';
import { InputError, InternalError } from '../../common/errors.js';
import {
  contentEndS,
  MEDIA_LIMITS,
  type MediaLimitDeps,
  type MediaLimits,
  videoPacketBudget,
} from '../../common/ffmpeg/limits.js';
import { probeInput } from '../../common/ffmpeg/media-errors.js';
import { keyframeTimes } from '../../common/ffmpeg/packets.js';
import { firstAudioStream, mainVideoStream, parseSeconds } from '../../common/ffmpeg/probe.js';
import type { FfmpegDeps, FfmpegRunner } from '../../common/ffmpeg/runner.js';
import { CONTENT_TYPES, downloadObject, uploadFile } from '../../common/ffmpeg/transfer.js';
import { clipId } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import { defineStage } from '../../common/stage.js';
import { type CutWindow, cutWindows, firstPacketPts, pieceContainer, pieceStartTime } from './piece-plan.js';
import { timedSource } from './timed-source.js';

/** How far past the clip start a piece may begin and still count as containing it. */
const START_TOLERANCE_S = 0.001;

/** What every piece of one source shares. */
interface Source {
  path: string;
  /** Options before every `-i` of `path`: what makes all its packets carry presentation times. */
  inputOptions: readonly string[];
  videoIndex: number;
  audioIndex: number | undefined;
  /** The source's start_time: source time 0 in the file's own timestamps. */
  originS: number;
  durationS: number;
  keyframes: number[];
  container: ReturnType<typeof pieceContainer>;
}

/**
 * Pieces cut per ffmpeg run: one process start for many pieces, without
 * holding a long source's index open hundreds of times at once.
 */
const PIECES_PER_RUN = 16;

interface PlannedCopy {
  clip: ClipBoundary;
  window: CutWindow;
  output: string;
  /** framecrc of the piece's first video packet: where the copy really starts. */
  firstPacket: string;
}

/**
 * cut-clips: splits the source into one piece per clip by stream copy — no
 * re-encoding, so it costs about as much as reading the file. Each piece starts
 * on the keyframe at or before its clip; the exact range inside it is recorded
 * (offset_s) and cut precisely by transcode-clip, which re-encodes anyway.
 * Timestamps are kept (-copyts) so the piece's start can be measured, not
 * guessed: each copy also writes its first packet as framecrc, in the same run.
 * Pieces are copied many to an ffmpeg run; a piece whose seek landed past its
 * clip (MPEG-TS seeks by bytes) is copied again from an earlier point. An AVI
 * with B-frames is first given presentation times (timed-source.ts).
 */
export const cutClips = defineStage<'cut-clips', FfmpegDeps & MediaLimitDeps>({
  name: 'cut-clips',
  async run(input, { store, ffmpeg, signal, logger, outputKey, limits = MEDIA_LIMITS }) {
    return ffmpeg.withTempDir(async (dir) => {
      const path = join(dir, 'source');
      await downloadObject(store, input.source_key, path, signal);
      const source = await describeSource(ffmpeg, path, dir, limits, signal);
      const outside = input.clips.filter((c) => c.start >= source.durationS);
      if (outside.length > 0) {
        throw new InputError('CLIP_OUT_OF_RANGE', 'clips start after the end of the source', {
          details: { duration_s: source.durationS, clips: outside.map((c) => c.index) },
        });
      }
      logger.info({ keyframes: source.keyframes.length, clips: input.clips.length }, 'cutting pieces');

      // Cut everything first, upload after: a failure half-way leaves nothing in the store.
      const cut: Array<{ piece: ClipPiece; local: string }> = [];
      for (let i = 0; i < input.clips.length; i += PIECES_PER_RUN) {
        const batch = input.clips.slice(i, i + PIECES_PER_RUN);
        const copies = batch.map((clip) =>
          planCopy(source, clip, cutWindows(clip, source.keyframes)[0]!, dir),
        );
        const starts = await copyPieces(ffmpeg, source, copies, signal);
        for (const [j, copy] of copies.entries()) {
          const start =
            containsStart(source, copy.clip, starts[j]) ??
            (await recut(ffmpeg, source, copy, signal, logger));
          cut.push({ piece: pieceOf(copy, start, outputKey, source), local: copy.output });
        }
      }
      for (const { piece, local } of cut) {
        await uploadFile(store, piece.piece_key, local, CONTENT_TYPES[source.container.ext]);
      }
      return { pieces: cut.map((c) => c.piece) };
    });
  },
});

/** The later fall-back windows of one clip, one copy at a time. */
async function recut(
  ffmpeg: FfmpegRunner,
  source: Source,
  first: PlannedCopy,
  signal: AbortSignal,
  logger: Logger,
): Promise<Measured> {
  const { clip } = first;
  for (const [i, window] of cutWindows(clip, source.keyframes).slice(1).entries()) {
    logger.debug({ clip: clip.index, attempt: i + 1, seek_s: window.seekS }, 'seek landed past the clip');
    const copy = { ...first, window };
    const [start] = await copyPieces(ffmpeg, source, [copy], signal);
    const found = containsStart(source, clip, start);
    if (found) return found;
  }
  throw new InternalError(`no stream copy for clip ${clip.index} starts before the clip`, {
    retryable: false,
    details: { start: clip.start, keyframes: source.keyframes.length },
  });
}

/**
 * The source's streams and keyframes. Listing the keyframes reads every video
 * packet, so it is bounded by what the header declares: a packet past the
 * declared end, or more packets than the limits allow, is MEDIA_LIMITS_EXCEEDED.
 */
async function describeSource(
  ffmpeg: FfmpegRunner,
  downloaded: string,
  dir: string,
  limits: MediaLimits,
  signal: AbortSignal,
): Promise<Source> {
  const probe = await probeInput(ffmpeg, downloaded, signal);
  const video = mainVideoStream(probe);
  if (!video) throw new InputError('NO_VIDEO_STREAM', 'the source has no video stream');
  const { path, inputOptions } = await timedSource(ffmpeg, { path: downloaded, probe, video }, dir, signal);
  const originS = parseSeconds(probe.format?.start_time) ?? 0;
  const durationS = parseSeconds(probe.format?.duration) ?? Number.POSITIVE_INFINITY;
  const keyframes = await keyframeTimes(ffmpeg, path, {
    streamIndex: video.index,
    inputOptions,
    endS: originS + contentEndS(durationS),
    maxPackets: videoPacketBudget(limits, durationS),
    signal,
  });
  return {
    path,
    inputOptions,
    videoIndex: video.index,
    audioIndex: firstAudioStream(probe)?.index,
    originS,
    durationS,
    keyframes: keyframes.map((t) => t - originS),
    container: pieceContainer(probe.format?.format_name),
  };
}

/** Where a copy starts: the source time of its first frame, and that frame's timestamp in the piece. */
interface Measured {
  startS: number;
  timestampS: number;
}

function planCopy(source: Source, clip: ClipBoundary, window: CutWindow, dir: string): PlannedCopy {
  const name = `piece-${clipId(clip.index)}`;
  return {
    clip,
    window,
    output: join(dir, `${name}.${source.container.ext}`),
    firstPacket: join(dir, `${name}.framecrc`),
  };
}

/** The measured start, if the piece contains its clip's start. */
function containsStart(source: Source, clip: ClipBoundary, measured: Measured | undefined) {
  if (measured === undefined) return undefined;
  // A piece starting on the source's first keyframe is as early as it gets, even if the clip
  // asks for earlier (MPEG-TS audio often starts a frame or two before the video).
  const s = measured.startS;
  const ok = s <= clip.start + START_TOLERANCE_S || s <= (source.keyframes[0] ?? 0) + START_TOLERANCE_S;
  return ok ? measured : undefined;
}

function pieceOf(
  copy: PlannedCopy,
  measured: Measured,
  outputKey: (fileName: string) => string,
  source: Source,
): ClipPiece {
  const { clip } = copy;
  return {
    index: clip.index,
    piece_key: outputKey(basename(copy.output)),
    piece_start_s: measured.startS,
    piece_timestamp_s: measured.timestampS,
    has_audio: source.audioIndex !== undefined,
    start: clip.start,
    end: clip.end,
    offset_s: Math.max(0, clip.start - measured.startS),
  };
}

/**
 * Stream-copies each window into its piece, all in one ffmpeg run (one input
 * per window). Returns where each piece starts, undefined for a piece with no
 * video packet.
 */
async function copyPieces(
  ffmpeg: FfmpegRunner,
  source: Source,
  copies: readonly PlannedCopy[],
  signal: AbortSignal,
): Promise<Array<Measured | undefined>> {
  const inputs = copies.flatMap(({ window }) => [
    ...source.inputOptions,
    ...(window.seekS === undefined ? [] : ['-ss', window.seekS.toFixed(6)]),
    ...['-t', window.readS.toFixed(6), '-i', source.path],
  ]);
  const outputs = copies.flatMap((copy, i) => [
    ...['-map', `${i}:${source.videoIndex}`],
    ...(source.audioIndex === undefined ? [] : ['-map', `${i}:${source.audioIndex}`]),
    ...['-c', 'copy', '-f', source.container.format, copy.output],
    // A stream copy starts on a keyframe, so the first video packet is where decoding can start.
    ...[
      '-map',
      `${i}:${source.videoIndex}`,
      '-c',
      'copy',
      '-frames:v',
      '1',
      '-f',
      'framecrc',
      copy.firstPacket,
    ],
  ]);
  // -copyts keeps the source's timestamps, so the pieces say where they start.
  await ffmpeg.run(['-copyts', ...inputs, ...outputs], { signal });
  return Promise.all(
    copies.map(async (copy) => {
      const pts = firstPacketPts(await readFile(copy.firstPacket, 'utf8'));
      if (pts === undefined) return undefined;
      return { startS: pieceStartTime(pts - source.originS, source.keyframes), timestampS: pts };
    }),
  );
}
