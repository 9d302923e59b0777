import type { Match, UnderstoodQuery } from '../contracts/final.js';
import { type Interval, intersect, joinIntervals, overlaps } from './intervals.js';
import { stem } from './stem.js';
import { words as normalizedWords } from './tokenize.js';
import type { ClipEvidence } from './types.js';

/**
 * How evidence becomes a score. An object's strength in a range is the best
 * detection score of its labels there (≤ 1); a term heard is `termHit` plus
 * `repeatBonus` per further occurrence (up to `maxRepeats`), a quoted phrase
 * `phraseHit` plus the same, both capped at 1. A range's score is the mean
 * strength of what it holds × the share of the query's parts it holds.
 */
export const SCORING = { termHit: 0.5, phraseHit: 1, repeatBonus: 0.1, maxRepeats: 3 } as const;

export interface RankOptions {
  /** Seconds between sampled frames: a frame at t stands for [t − ½·interval, t + ½·interval). */
  frameIntervalS: number;
}

/** Frame times jitter by less than this. */
const EPSILON_S = 0.01;

/** A word heard stands for this much time on each side of it. */
const WORD_PAD_S = 0.5;

type WhyLabel = Match['why']['labels'][number];
type WhyWord = Match['why']['words'][number];

/** One part of the query, where it holds in the source. */
interface Part {
  name: string;
  intervals: Interval[];
  /** Strength inside [start, end) and the evidence there. */
  explain(start: number, end: number): { strength: number; labels: WhyLabel[]; words: WhyWord[] };
}

/**
 * The answers: the time ranges of the source where parts of the query hold,
 * evidence joined across clip boundaries (one missed frame does not split a
 * range). Where the query names several things, the timeline is cut where
 * the set of parts present changes, so the stretch where a person and a cup
 * are seen together is a range of its own and ranks above the stretches that
 * hold only one of them. Ranked by the number of parts present, then score,
 * then length; each names the clips it spans. Pure: same input, same answer.
 */
export function rankRanges(
  understood: UnderstoodQuery,
  clips: readonly ClipEvidence[],
  options: RankOptions,
): Match[] {
  const ordered = [...clips].sort((a, b) => a.start - b.start);
  const parts = [
    ...understood.objects.map((o) => objectPart(o.words, new Set(o.labels), ordered, options)),
    ...understood.terms.map((t) => wordPart(t, [stem(t)], ordered, SCORING.termHit)),
    ...understood.phrases.map((p) => wordPart(p, normalizedWords(p).map(stem), ordered, SCORING.phraseHit)),
  ].filter((p) => p.intervals.length > 0 && p.name !== '');
  const total = understood.objects.length + understood.terms.length + understood.phrases.length || 1;

  const matches = segmentByParts(parts).map(({ start, end, present }) =>
    toMatch(start, end, present, parts, ordered, total),
  );
  return matches.sort(compareMatches);
}

/** Best first: more of the query's parts present, then the higher score, the longer range, the earlier start. */
export function compareMatches(a: Match, b: Match): number {
  return (
    b.found.length - a.found.length ||
    b.score - a.score ||
    b.end - b.start - (a.end - a.start) ||
    a.start - b.start
  );
}

/** Cuts the timeline where the set of parts present changes; keeps the pieces where any is present. */
function segmentByParts(parts: readonly Part[]): Array<{ start: number; end: number; present: Part[] }> {
  const cuts = [...new Set(parts.flatMap((p) => p.intervals.flat()))].sort((a, b) => a - b);
  const pieces: Array<{ start: number; end: number; present: Part[] }> = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i]!, cuts[i + 1]!];
    const mid = (a + b) / 2;
    const present = parts.filter((p) => p.intervals.some(([s, e]) => s <= mid && mid < e));
    if (present.length === 0) continue;
    const last = pieces.at(-1);
    if (last && last.end === a && sameParts(last.present, present)) last.end = b;
    else pieces.push({ start: a, end: b, present });
  }
  return pieces;
}

const sameParts = (a: readonly Part[], b: readonly Part[]) =>
  a.length === b.length && a.every((p) => b.includes(p));

function toMatch(
  start: number,
  end: number,
  present: readonly Part[],
  parts: readonly Part[],
  clips: readonly ClipEvidence[],
  total: number,
): Match {
  const explained = present.map((p) => p.explain(start, end));
  const labels = explained.flatMap((e) => e.labels);
  const words = explained.flatMap((e) => e.words).sort((a, b) => a.start - b.start || a.end - b.end);
  const strength = explained.reduce((sum, e) => sum + e.strength, 0) / explained.length;
  const spanned = clips.filter((c) => overlaps([c.start, c.end], [start, end]));
  const match: Match = {
    start: round3(start),
    end: round3(end),
    score: round(strength * (present.length / total), 4),
    found: present.map((p) => p.name),
    missing: parts.filter((p) => !present.includes(p)).map((p) => p.name),
    clips: spanned.map((c) => c.clip),
    why: { labels, words },
    transcript: spanned
      .flatMap((c) =>
        c.words
          .filter((w) => {
            const mid = c.start + (w.start + w.end) / 2;
            return mid >= start && mid < end;
          })
          .map((w) => w.word.trim()),
      )
      .join(' '),
    video_keys: spanned.flatMap((c) => (c.video_key === undefined ? [] : [c.video_key])),
  };
  const thumb = bestFrame(spanned, labels, words, start, end);
  if (thumb) {
    match.thumbnail_key = thumb.key;
    if (thumb.t !== undefined) match.thumbnail_t = round3(thumb.t);
  }
  return match;
}

function objectPart(
  name: string,
  labels: ReadonlySet<string>,
  clips: readonly ClipEvidence[],
  { frameIntervalS }: RankOptions,
): Part {
  const half = frameIntervalS / 2;
  // Source ranges per label: each moment of a clip belongs to its nearest sampled frame, so a
  // frame's range is centred on it, and the first and last frames reach the clip's ends.
  const byLabel = new Map<string, Interval[]>();
  for (const clip of clips) {
    const times = clip.frames?.map((f) => f.t) ?? [];
    const first = times.length ? Math.min(...times) : 0;
    const last = times.length ? Math.max(...times) : clip.end - clip.start - frameIntervalS;
    for (const evidence of clip.labels) {
      if (!labels.has(evidence.label)) continue;
      const ranges = evidence.ranges
        .map(
          ([a, b]): Interval => [
            a <= first + EPSILON_S ? clip.start : Math.max(clip.start, clip.start + a - half),
            b - frameIntervalS >= last - EPSILON_S ? clip.end : Math.min(clip.end, clip.start + b - half),
          ],
        )
        .filter(([a, b]) => b > a);
      byLabel.set(evidence.label, [...(byLabel.get(evidence.label) ?? []), ...ranges]);
    }
  }
  // A gap up to one frame interval is one missed frame (or a clip boundary), not an absence.
  const gap = frameIntervalS * 1.01;
  const joined = new Map([...byLabel].map(([label, r]) => [label, joinIntervals(r, gap)]));
  return {
    name,
    intervals: joinIntervals([...joined.values()].flat(), gap),
    explain(start, end) {
      const why: WhyLabel[] = [];
      for (const [label, ranges] of joined) {
        const inside = ranges.map((r) => intersect(r, [start, end])).filter((r) => r !== undefined);
        if (inside.length === 0) continue;
        const best = bestDetection(clips, label, start - half, end + half);
        why.push({
          label,
          ranges: inside.map(([a, b]) => [round3(a), round3(b)]),
          best_score: best?.score ?? 0,
        });
      }
      why.sort((a, b) => b.best_score - a.best_score || a.label.localeCompare(b.label));
      return { strength: why[0]?.best_score ?? 0, labels: why, words: [] };
    },
  };
}

/** The best detection of `label` with a source time in [from, to). */
function bestDetection(clips: readonly ClipEvidence[], label: string, from: number, to: number) {
  let best: { score: number; clip: ClipEvidence; t: number } | undefined;
  for (const clip of clips) {
    for (const d of clip.detections ?? []) {
      const t = clip.start + d.t;
      if (d.label === label && t >= from && t < to && (!best || d.score > best.score)) {
        best = { score: d.score, clip, t: d.t };
      }
    }
    // Without detections (older outputs), the clip's best score for the label stands in.
    if (!clip.detections && overlaps([clip.start, clip.end], [from, to])) {
      const e = clip.labels.find((l) => l.label === label);
      if (e && (!best || e.best_score > best.score)) best = { score: e.best_score, clip, t: Number.NaN };
    }
  }
  return best;
}

function wordPart(name: string, stems: readonly string[], clips: readonly ClipEvidence[], hit: number): Part {
  const heard: WhyWord[] = [];
  const spans: Interval[] = [];
  for (const clip of clips) {
    // One engine word may hold several tokens ("ice-cream"): each keeps its word's time.
    const tokens = clip.words.flatMap((w, word) =>
      normalizedWords(w.word).map((t) => ({ stem: stem(t), word })),
    );
    for (let i = 0; i + stems.length <= tokens.length; i++) {
      if (!stems.every((s, k) => tokens[i + k]!.stem === s)) continue;
      const span = clip.words.slice(tokens[i]!.word, tokens[i + stems.length - 1]!.word + 1);
      const word = {
        word: span.map((w) => w.word.trim()).join(' '),
        term: name,
        start: round3(clip.start + span[0]!.start),
        end: round3(clip.start + span.at(-1)!.end),
      };
      heard.push(word);
      // The padding stays inside the clip the word was heard in.
      spans.push([Math.max(clip.start, word.start - WORD_PAD_S), Math.min(clip.end, word.end + WORD_PAD_S)]);
      i += stems.length - 1; // occurrences do not overlap
    }
  }
  return {
    name,
    intervals: joinIntervals(spans, 0),
    explain(start, end) {
      const inside = heard.filter((w) => w.end > start - WORD_PAD_S && w.start < end + WORD_PAD_S);
      const repeats = SCORING.repeatBonus * Math.min(inside.length - 1, SCORING.maxRepeats);
      return { strength: Math.min(1, hit + repeats), labels: [], words: inside };
    },
  };
}

/** Where the best label was seen, else the frame nearest the first word, else a clip thumbnail. */
function bestFrame(
  clips: readonly ClipEvidence[],
  labels: readonly WhyLabel[],
  words: readonly WhyWord[],
  start: number,
  end: number,
): { key: string; t?: number } | undefined {
  const top = labels[0];
  const at = top ? bestDetection(clips, top.label, start, end) : undefined;
  const target = at && Number.isFinite(at.t) ? { clip: at.clip, t: at.t } : undefined;
  const wordAt = words[0]?.start;
  const clip = target?.clip ?? clips.find((c) => wordAt !== undefined && c.start <= wordAt && wordAt < c.end);
  const t = target?.t ?? (clip && wordAt !== undefined ? wordAt - clip.start : undefined);
  if (clip?.frames?.length && t !== undefined) {
    const frame = clip.frames.reduce((a, b) => (Math.abs(b.t - t) < Math.abs(a.t - t) ? b : a));
    return { key: frame.key, t: clip.start + frame.t };
  }
  const fallback = clip ?? clips[0];
  return fallback?.thumbnail_key ? { key: fallback.thumbnail_key } : undefined;
}

const round3 = (v: number) => round(v, 3);

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
