import { FRAME_NAME, isFramesPrefix, VideoIndexDocument } from '../contracts/video-index.js';
import { isValidKey } from '../storage/keys.js';

export type Checked = { ok: true; doc: VideoIndexDocument } | { ok: false; reason: string };

/** The document without its clips: a few fields, checked by zod itself. */
const Head = VideoIndexDocument.omit({ clips: true });

/**
 * A video index document as VideoIndexDocument accepts it, checked in plain
 * loops: zod takes ~2.5 ms over a document's thousands of tuples, these loops
 * a small fraction of that. They hold the same rules, never looser; whatever
 * they doubt goes to zod, whose first issue is then the reason, so a document
 * is accepted or skipped exactly as zod would. An accepted document is the
 * value itself (zod would drop keys it does not know; nothing reads them).
 */
export function checkDocument(value: unknown): Checked {
  if (isObject(value) && Array.isArray(value.clips) && value.clips.every(isClip)) {
    const { clips: _, ...head } = value;
    if (Head.safeParse(head).success) return { ok: true, doc: value as VideoIndexDocument };
  }
  const parsed = VideoIndexDocument.safeParse(value);
  if (parsed.success) return { ok: true, doc: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}` };
}

/** IndexedClip. */
function isClip(c: unknown): boolean {
  if (!isObject(c)) return false;
  const { clip, start, end, transcript, words, labels, frames_prefix, frames, video_key, thumbnail_key } = c;
  return (
    isInt(clip) &&
    clip <= 99_999 &&
    isSeconds(start) &&
    isSeconds(end) &&
    start <= end &&
    typeof transcript === 'string' &&
    Array.isArray(words) &&
    words.every(isWord) &&
    Array.isArray(labels) &&
    labels.every(isLabel) &&
    typeof frames_prefix === 'string' &&
    frames_prefix.length <= 700 &&
    isFramesPrefix(frames_prefix) &&
    Array.isArray(frames) &&
    frames.every(isFrame) &&
    (video_key === undefined || isKey(video_key)) &&
    (thumbnail_key === undefined || isKey(thumbnail_key))
  );
}

/** [word, start, end] */
const isWord = (w: unknown) =>
  Array.isArray(w) &&
  w.length === 3 &&
  typeof w[0] === 'string' &&
  w[0].length >= 1 &&
  isSeconds(w[1]) &&
  isSeconds(w[2]);

/** LabelEvidence with `seen`: [t, score] pairs. */
function isLabel(l: unknown): boolean {
  if (!isObject(l)) return false;
  const { label, best_score, ranges, frames, seen } = l;
  return (
    typeof label === 'string' &&
    isScore(best_score) &&
    Array.isArray(ranges) &&
    ranges.every(isRange) &&
    isInt(frames) &&
    Array.isArray(seen) &&
    seen.every((s) => Array.isArray(s) && s.length === 2 && isSeconds(s[0]) && isScore(s[1]))
  );
}

/** TimeRange */
const isRange = (r: unknown) =>
  Array.isArray(r) && r.length === 2 && isSeconds(r[0]) && isSeconds(r[1]) && r[0] <= r[1];

/** [name after frames_prefix, t] */
const isFrame = (f: unknown) =>
  Array.isArray(f) &&
  f.length === 2 &&
  typeof f[0] === 'string' &&
  f[0].length <= 255 &&
  FRAME_NAME.test(f[0]) &&
  isSeconds(f[1]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isSeconds = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isScore = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isKey = (v: unknown) => typeof v === 'string' && isValidKey(v);
