import type { SegmentParams } from '../../common/contracts/profile.js';
import type { ClipBoundary } from '../../common/contracts/stages.js';

export type Range = [start: number, end: number];

/** A clip under construction: its bounds and the speech it must keep covering. */
interface Draft {
  start: number;
  end: number;
  coreStart: number;
  coreEnd: number;
}

/** Speech regions closer than `gap` seconds become one region. Input sorted, output sorted. */
export function mergeClose(regions: readonly Range[], gap: number): Range[] {
  const merged: Range[] = [];
  for (const [start, end] of regions) {
    const last = merged[merged.length - 1];
    if (last && start - last[1] < gap) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/**
 * Clips from speech segments (already merged, sorted, inside [0, duration]):
 * each segment padded by pad_s; where padding makes neighbours overlap, the
 * cut goes in the middle of the silence between them; clips shorter than
 * min_clip_s grow around their centre into free time (best effort: a clip
 * hemmed in by neighbours stays shorter); clips longer than max_clip_s are cut
 * into equal parts. The clips cover every segment, never overlap, and are the
 * same for the same input.
 */
export function planSpeechClips(
  segments: readonly Range[],
  durationS: number,
  params: SegmentParams,
): Range[] {
  const drafts: Draft[] = segments.map(([s, e]) => ({
    start: Math.max(0, s - params.pad_s),
    end: Math.min(durationS, e + params.pad_s),
    coreStart: s,
    coreEnd: e,
  }));
  separateOverlaps(drafts);
  drafts.forEach((d, i) => {
    growToMinimum(d, drafts[i - 1]?.end ?? 0, drafts[i + 1]?.start ?? durationS, params.min_clip_s);
  });
  return drafts.flatMap((d) => splitEvenly([d.start, d.end], params.max_clip_s));
}

/** No speech at all: the whole video in windows of fallback_clip_s; a tail shorter than min_clip_s joins the window before it. */
export function fixedWindows(durationS: number, params: SegmentParams): Range[] {
  const windows: Range[] = [];
  for (let start = 0; start < durationS; start += params.fallback_clip_s) {
    windows.push([start, Math.min(durationS, start + params.fallback_clip_s)]);
  }
  const last = windows[windows.length - 1];
  if (windows.length > 1 && last && last[1] - last[0] < params.min_clip_s) {
    windows.pop();
    windows[windows.length - 1]![1] = last[1];
  }
  return windows;
}

/**
 * The whole timeline as clips: the speech clips as planned, and every stretch
 * between them (and before the first, after the last) as clips of at most
 * min(fallback_clip_s, max_clip_s), so every per-clip stage sees every second
 * of the video. A stretch shorter than min_clip_s joins the neighbouring clip
 * that stays within max_clip_s (the shorter one); where neither can take it,
 * it stays a short clip of its own: no time is left out. Input sorted,
 * non-overlapping, inside [0, duration].
 */
export function tileTimeline(speech: readonly Range[], durationS: number, params: SegmentParams): Range[] {
  const gapClipS = Math.min(params.fallback_clip_s, params.max_clip_s);
  const tiles: Tile[] = [];
  let cursor = 0;
  const fillTo = (end: number) => {
    if (end - cursor > GAP_EPSILON_S) {
      for (const range of splitEvenly([cursor, end], gapClipS)) tiles.push({ range, speech: false });
    }
    cursor = Math.max(cursor, end);
  };
  for (const [start, end] of speech) {
    fillTo(start);
    tiles.push({ range: [Math.max(cursor, start), end], speech: true });
    cursor = end;
  }
  fillTo(durationS);
  return absorbShortGaps(tiles, params).map((t) => t.range);
}

interface Tile {
  range: Range;
  speech: boolean;
}

/** Below this a stretch between clips is rounding, not time to analyse. */
const GAP_EPSILON_S = 0.001;

function absorbShortGaps(tiles: readonly Tile[], params: SegmentParams): Tile[] {
  const length = (t: Tile) => t.range[1] - t.range[0];
  const out: Tile[] = [];
  const pending = tiles.map((t) => ({ range: [...t.range] as Range, speech: t.speech }));
  for (let i = 0; i < pending.length; i++) {
    const tile = pending[i]!;
    if (tile.speech || length(tile) >= params.min_clip_s || pending.length === 1) {
      out.push(tile);
      continue;
    }
    const before = out.at(-1);
    const after = pending[i + 1];
    const fitsBefore = before !== undefined && length(before) + length(tile) <= params.max_clip_s;
    const fitsAfter = after !== undefined && length(after) + length(tile) <= params.max_clip_s;
    if (fitsBefore && (!fitsAfter || length(before) <= length(after!))) before.range[1] = tile.range[1];
    else if (fitsAfter) after!.range[0] = tile.range[0];
    else out.push(tile);
  }
  return out;
}

/** Ranges → contract boundaries: indexed, times rounded to the millisecond. */
export function toBoundaries(ranges: readonly Range[]): ClipBoundary[] {
  return ranges.map(([start, end], index) => ({ index, start: roundMs(start), end: roundMs(end) }));
}

export function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function separateOverlaps(drafts: Draft[]): void {
  for (let i = 0; i + 1 < drafts.length; i++) {
    const a = drafts[i]!;
    const b = drafts[i + 1]!;
    if (a.end <= b.start) continue;
    // The overlap [b.start, a.end] and the silence [a.coreEnd, b.coreStart] always intersect; cut in the middle of that.
    const from = Math.max(b.start, a.coreEnd);
    const to = Math.min(a.end, b.coreStart);
    const cut = (from + to) / 2;
    a.end = cut;
    b.start = cut;
  }
}

function growToMinimum(d: Draft, floor: number, ceiling: number, minS: number): void {
  const missing = minS - (d.end - d.start);
  if (missing <= 0) return;
  const roomBefore = Math.max(0, d.start - floor);
  const roomAfter = Math.max(0, ceiling - d.end);
  // Half on each side; what one side has no room for goes to the other.
  const before = Math.min(roomBefore, Math.max(missing / 2, missing - roomAfter));
  const after = Math.min(roomAfter, missing - before);
  d.start -= before;
  d.end += after;
}

function splitEvenly([start, end]: Range, maxS: number): Range[] {
  const parts = Math.max(1, Math.ceil((end - start) / maxS - 1e-9));
  const step = (end - start) / parts;
  return Array.from(
    { length: parts },
    (_, k): Range => [k === 0 ? start : start + k * step, k === parts - 1 ? end : start + (k + 1) * step],
  );
}
