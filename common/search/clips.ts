import type { IndexedClip } from '../contracts/video-index.js';
import type { ClipEvidence } from '../matching/index.js';

/**
 * A clip's evidence as the video index document holds it (IndexedClip), and
 * back. The way back ranks exactly as the evidence it was made from: a
 * label's detections keep their best score per frame, which is all matching
 * reads of them (the best detection in a range, where it was seen).
 */
export function indexedClip(e: ClipEvidence): IndexedClip {
  const frames = e.frames ?? [];
  const prefix = commonDir(frames.map((f) => f.key));
  const seen = new Map<string, Map<number, number>>();
  for (const d of e.detections ?? []) {
    const byT = seen.get(d.label) ?? new Map<number, number>();
    seen.set(d.label, byT);
    byT.set(d.t, Math.max(byT.get(d.t) ?? 0, d.score));
  }
  return {
    clip: e.clip,
    start: e.start,
    end: e.end,
    transcript: e.transcript,
    words: e.words.map((w) => [w.word, w.start, w.end]),
    labels: e.labels.map((l) => ({
      label: l.label,
      best_score: l.best_score,
      ranges: l.ranges.map(([a, b]) => [a, b]),
      frames: l.frames,
      seen: [...(seen.get(l.label) ?? [])],
    })),
    frames_prefix: prefix,
    frames: frames.map((f) => [f.key.slice(prefix.length), f.t]),
    ...(e.video_key !== undefined ? { video_key: e.video_key } : {}),
    ...(e.thumbnail_key !== undefined ? { thumbnail_key: e.thumbnail_key } : {}),
  };
}

/** The evidence matching ranks. Frame keys are rebuilt unchecked: search checks those an answer names. */
export function clipEvidence(c: IndexedClip): ClipEvidence {
  return {
    clip: c.clip,
    start: c.start,
    end: c.end,
    transcript: c.transcript,
    words: c.words.map(([word, start, end]) => ({ word, start, end })),
    labels: c.labels.map(({ seen: _, ...l }) => l),
    detections: c.labels.flatMap((l) => l.seen.map(([t, score]) => ({ t, label: l.label, score }))),
    frames: c.frames.map(([name, t]) => ({ key: c.frames_prefix + name, t })),
    ...(c.video_key !== undefined ? { video_key: c.video_key } : {}),
    ...(c.thumbnail_key !== undefined ? { thumbnail_key: c.thumbnail_key } : {}),
  };
}

/** The longest folder prefix ("a/b/") every key shares. */
function commonDir(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  let prefix = keys[0]!.slice(0, keys[0]!.lastIndexOf('/') + 1);
  for (const key of keys) {
    while (!key.startsWith(prefix)) prefix = prefix.slice(0, prefix.lastIndexOf('/', prefix.length - 2) + 1);
  }
  return prefix;
}
