import type { Match, UnderstoodQuery } from '../contracts/final.js';
import { stem } from './stem.js';
import { words as normalizedWords } from './tokenize.js';
import type { ClipEvidence } from './types.js';

/**
 * How evidence turns into a score (all additive, so a clip that both shows
 * and mentions what was asked ranks first):
 * - a label: the fraction of the clip it is seen in × its best detection score (≤ 1 each);
 * - a term heard: `termHit`, plus `repeatBonus` for each further occurrence (up to `maxRepeats`);
 * - a quoted phrase heard: `phraseHit`, plus the same repeat bonus.
 */
export const SCORING = { termHit: 0.5, phraseHit: 1, repeatBonus: 0.1, maxRepeats: 3 } as const;

type WhyLabel = Match['why']['labels'][number];
type WhyWord = Match['why']['words'][number];

interface Part<T> {
  score: number;
  why: T[];
}

/**
 * Scores every clip against the understood query and returns those with a
 * score above zero, best first; equal scores keep clip order. Each match says
 * why: labels with their source-time ranges, words with their source times.
 * A query with nothing searchable matches nothing (its `note` says why).
 */
export function rankClips(understood: UnderstoodQuery, clips: readonly ClipEvidence[]): Match[] {
  const terms = understood.terms.map((term) => ({ term, stem: stem(term) }));
  const phrases = understood.phrases
    .map((phrase) => ({ phrase, stems: normalizedWords(phrase).map(stem) }))
    .filter((p) => p.stems.length > 0);
  const labels = new Set(understood.labels);

  const matches: Match[] = [];
  for (const clip of clips) {
    const seen = labelEvidence(labels, clip);
    const heard = transcriptEvidence(terms, phrases, clip);
    const score = round(seen.score + heard.score, 4);
    if (score <= 0) continue;
    const match: Match = {
      clip: clip.clip,
      start: clip.start,
      end: clip.end,
      score,
      why: { labels: seen.why, words: heard.why },
      transcript: clip.transcript,
    };
    if (clip.video_key !== undefined) match.video_key = clip.video_key;
    if (clip.thumbnail_key !== undefined) match.thumbnail_key = clip.thumbnail_key;
    matches.push(match);
  }
  return matches.sort((a, b) => b.score - a.score || a.clip - b.clip);
}

function labelEvidence(wanted: ReadonlySet<string>, clip: ClipEvidence): Part<WhyLabel> {
  const duration = Math.max(0, clip.end - clip.start);
  const part: Part<WhyLabel> = { score: 0, why: [] };
  for (const evidence of clip.labels) {
    if (!wanted.has(evidence.label)) continue;
    const ranges = clampAndMerge(evidence.ranges, duration);
    if (ranges.length === 0) continue;
    const covered = ranges.reduce((sum, [a, b]) => sum + (b - a), 0);
    const coverage = duration > 0 ? Math.min(1, covered / duration) : 0;
    part.score += coverage * evidence.best_score;
    part.why.push({
      label: evidence.label,
      ranges: ranges.map(
        ([a, b]) => [round(clip.start + a, 3), round(clip.start + b, 3)] as [number, number],
      ),
      best_score: evidence.best_score,
    });
  }
  return part;
}

/** Clip-relative ranges cut to [0, duration], sorted, overlaps merged, empty ones dropped. */
function clampAndMerge(
  ranges: ReadonlyArray<readonly [number, number]>,
  duration: number,
): [number, number][] {
  const clamped = ranges
    .map(([a, b]) => [Math.max(0, a), Math.min(duration, b)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const r of clamped) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

interface HeardToken {
  stem: string;
  /** Index into clip.words. */
  word: number;
}

function transcriptEvidence(
  terms: ReadonlyArray<{ term: string; stem: string }>,
  phrases: ReadonlyArray<{ phrase: string; stems: string[] }>,
  clip: ClipEvidence,
): Part<WhyWord> {
  // One engine word may hold several tokens ("ice-cream"): each keeps its word's time.
  const tokens: HeardToken[] = clip.words.flatMap((w, word) =>
    normalizedWords(w.word).map((t) => ({ stem: stem(t), word })),
  );
  const part: Part<WhyWord> = { score: 0, why: [] };
  const heard = (first: number, last: number, term: string): WhyWord => {
    const span = clip.words.slice(first, last + 1);
    return {
      word: span.map((w) => w.word.trim()).join(' '),
      term,
      start: round(clip.start + span[0]!.start, 3),
      end: round(clip.start + span.at(-1)!.end, 3),
    };
  };

  for (const { term, stem: wanted } of terms) {
    const hits = [...new Set(tokens.filter((t) => t.stem === wanted).map((t) => t.word))];
    if (hits.length === 0) continue;
    part.score += SCORING.termHit + repeatBonus(hits.length);
    for (const w of hits) part.why.push(heard(w, w, term));
  }

  for (const { phrase, stems } of phrases) {
    let count = 0;
    for (let i = 0; i + stems.length <= tokens.length; i++) {
      if (!stems.every((s, k) => tokens[i + k]!.stem === s)) continue;
      count++;
      part.why.push(heard(tokens[i]!.word, tokens[i + stems.length - 1]!.word, phrase));
      i += stems.length - 1; // occurrences do not overlap
    }
    if (count > 0) part.score += SCORING.phraseHit + repeatBonus(count);
  }

  part.why.sort((a, b) => a.start - b.start || a.end - b.end);
  return part;
}

const repeatBonus = (occurrences: number): number =>
  SCORING.repeatBonus * Math.min(occurrences - 1, SCORING.maxRepeats);

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
