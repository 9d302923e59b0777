import type { ClipBoundary } from '../../common/contracts/stages.js';

/**
 * Seek this far past the keyframe we want (or half-way to the next keyframe,
 * if that is closer). Two reasons: ffprobe prints times rounded to the
 * microsecond, so a target exactly on the keyframe may fall a hair before it;
 * and for containers that seek by decode time (MPEG-TS, Matroska) ffmpeg moves
 * the target 3/23 s (≈ 0.13 s) earlier when the video has B-frames. Landing
 * before the wanted keyframe would copy a whole extra GOP.
 */
export const SEEK_PAST_KEYFRAME_S = 0.2;
/** Copy this much past the clip's end, so B-frames and the last audio packet around it are not lost. */
export const END_MARGIN_S = 0.5;
/** A measured piece start this close to a source keyframe *is* that keyframe (containers round timestamps). */
export const KEYFRAME_MATCH_S = 0.005;

export interface CutWindow {
  /** Source time to seek to (input `-ss`), or undefined to read from the start. */
  seekS: number | undefined;
  /** Seconds to copy from there (input `-t`). */
  readS: number;
}

/** Index of the last keyframe at or before `t` (keyframes sorted, in source time); -1 when none. */
export function lastIndexAtOrBefore(keyframes: readonly number[], t: number): number {
  let found = -1;
  keyframes.forEach((k, i) => {
    if (k <= t + 1e-6) found = i;
  });
  return found;
}

/**
 * Where stream copies for `clip` may start, best first; each reads to a margin
 * past the clip's end. A stream copy starts on the first keyframe at or after
 * where ffmpeg's seek lands, so the aim is the keyframe at or before the clip:
 *   1. just past that keyframe — exact for containers with a seek index (MP4, Matroska);
 *   2. half-way back to the keyframe before it — for MPEG-TS, whose seek lands
 *      roughly where asked (by bytes), so the next keyframe is the wanted one;
 *   3. the start of the file — always contains the clip.
 */
export function cutWindows(clip: ClipBoundary, keyframes: readonly number[]): CutWindow[] {
  const fromStart: CutWindow = { seekS: undefined, readS: clip.end + END_MARGIN_S };
  const index = lastIndexAtOrBefore(keyframes, clip.start);
  if (index <= 0) return [fromStart]; // the first keyframe: nothing to seek past
  const keyframe = keyframes[index]!;
  const previous = keyframes[index - 1]!;
  const next = keyframes[index + 1] ?? Number.POSITIVE_INFINITY;
  const window = (seekS: number): CutWindow => ({ seekS, readS: clip.end + END_MARGIN_S - seekS });
  return [
    window(keyframe + Math.min(SEEK_PAST_KEYFRAME_S, (next - keyframe) / 2)),
    window((previous + keyframe) / 2),
    fromStart,
  ];
}

/**
 * The source time of a piece's first frame, from the time measured in the
 * piece: the source keyframe it matches (exact; containers round timestamps
 * by up to a millisecond), else the measurement itself.
 */
export function pieceStartTime(measuredS: number, keyframes: readonly number[]): number {
  let nearest: number | undefined;
  for (const k of keyframes) {
    if (nearest === undefined || Math.abs(k - measuredS) < Math.abs(nearest - measuredS)) nearest = k;
  }
  return nearest !== undefined && Math.abs(nearest - measuredS) <= KEYFRAME_MATCH_S ? nearest : measuredS;
}

/** Mov-family sources are cut into .mov (keeps rotation and their codecs); everything else into Matroska. */
export function pieceContainer(formatName: string | undefined): {
  ext: 'mov' | 'mkv';
  format: 'mov' | 'matroska';
} {
  return formatName?.split(',').includes('mov')
    ? { ext: 'mov', format: 'mov' }
    : { ext: 'mkv', format: 'matroska' };
}

/**
 * The presentation time (seconds) of the first packet in ffmpeg's framecrc
 * output: "#tb 0: 1/12800" gives each stream's time base, then one line per
 * packet: "stream, dts, pts, duration, size, crc". Undefined when no packet.
 */
export function firstPacketPts(framecrc: string): number | undefined {
  const timeBases = new Map<string, number>();
  for (const line of framecrc.split('\n')) {
    const tb = /^#tb (\d+): (\d+)\/(\d+)/.exec(line);
    if (tb) timeBases.set(tb[1]!, Number(tb[2]) / Number(tb[3]));
    const packet = /^(\d+),\s*-?\d+,\s*(-?\d+),/.exec(line);
    if (packet) {
      const timeBase = timeBases.get(packet[1]!);
      return timeBase === undefined ? undefined : Number(packet[2]) * timeBase;
    }
  }
  return undefined;
}
