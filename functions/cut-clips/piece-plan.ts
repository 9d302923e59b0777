import type { ClipBoundary } from '../../common/contracts/stages.js';

/**
 * Seek this far past the keyframe: ffprobe prints times rounded to the
 * microsecond, and a target a hair *before* the keyframe would make ffmpeg
 * start at the keyframe before it (a whole GOP earlier). Far below any frame
 * duration.
 */
export const SEEK_NUDGE_S = 0.001;
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

/** The last keyframe at or before `t` (keyframes sorted, in source time). */
export function keyframeAtOrBefore(keyframes: readonly number[], t: number): number | undefined {
  let found: number | undefined;
  for (const k of keyframes) {
    if (k > t + 1e-6) break;
    found = k;
  }
  return found;
}

/**
 * Where a stream copy for `clip` starts and how long it runs: from the
 * keyframe at or before the clip's start (a stream copy can only begin on a
 * keyframe) to a margin past its end.
 */
export function cutWindow(clip: ClipBoundary, keyframes: readonly number[]): CutWindow {
  const keyframe = keyframeAtOrBefore(keyframes, clip.start);
  const isFirst = keyframe === undefined || keyframe <= (keyframes[0] ?? 0);
  const seekS = isFirst ? undefined : keyframe + SEEK_NUDGE_S;
  return { seekS, readS: clip.end + END_MARGIN_S - (seekS ?? 0) };
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
export function pieceContainer(formatName: string | undefined): { ext: 'mov' | 'mkv'; format: 'mov' | 'matroska' } {
  return formatName?.split(',').includes('mov') ? { ext: 'mov', format: 'mov' } : { ext: 'mkv', format: 'matroska' };
}
