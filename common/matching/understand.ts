import type { UnderstoodQuery } from '../contracts/final.js';
import { LEXICON, lexiconKey, MAX_PHRASE_WORDS } from './lexicon.js';
import { nearLabels } from './near.js';
import { stem } from './stem.js';
import { isIgnorable } from './stopwords.js';
import { splitQuery } from './tokenize.js';

export const NOTHING_SEARCHABLE_NOTE =
  'The query names no known object and no word to look for in the transcripts, so nothing was matched.';

/** Longer than any English word: more likely a pasted token than a term worth searching. */
const MAX_TERM_CHARS = 30;

/**
 * Turns a free-text query into what can be searched:
 * - `objects`: the things to look for on screen, each with the COCO labels
 *   that stand for it, via plurals, synonyms and category words ("motorbikes"
 *   → motorcycle, "vehicles" → car, truck, …); the longest phrase wins
 *   ("traffic light" before "traffic"). `labels` is their union.
 * - `terms`: the other words, minus stop words and query framing ("find",
 *   "scenes", "talk about"), matched against transcripts after stemming.
 * - `phrases`: "quoted phrases", matched as consecutive transcript words.
 * - `speech_only`: the terms and phrases, said out loud: the detector cannot
 *   see them, they are only searched in what is said; `suggestions`: labels
 *   near them, for a query that meant something visible ("hands" → person).
 * - `unknown`: words that are neither (single letters, overlong tokens).
 * When nothing is searchable, `note` says so and matching returns nothing.
 */
export function understandQuery(query: string): UnderstoodQuery {
  const { quoted, free } = splitQuery(query);
  const labels = new Set<string>();
  const objects = new Map<string, readonly string[]>();
  // Terms keyed by stem: "budget" and "budgets" are one term (the first spelling is kept).
  const terms = new Map<string, string>();
  const addTerm = (word: string) => {
    if (!terms.has(stem(word))) terms.set(stem(word), word);
  };
  const phrases = new Set<string>();
  const unknown = new Set<string>();

  for (const phraseWords of quoted) {
    // A quoted single word is a term the user insists on, even a stop word.
    if (phraseWords.length === 1) addTerm(phraseWords[0]!);
    else phrases.add(phraseWords.join(' '));
  }

  for (let i = 0; i < free.length; ) {
    const found = longestLexiconMatch(free, i);
    if (found) {
      for (const label of found.labels) labels.add(label);
      const said = free.slice(i, i + found.length).join(' ');
      if (![...objects.values()].some((l) => sameLabels(l, found.labels))) objects.set(said, found.labels);
      i += found.length;
      continue;
    }
    const word = free[i]!;
    i += 1;
    if (isIgnorable(word)) continue;
    if (isUsableTerm(word)) addTerm(word);
    else unknown.add(word);
  }

  const speechOnly = [...phrases, ...terms.values()];
  const understood: UnderstoodQuery = {
    labels: [...labels],
    objects: [...objects].map(([words, l]) => ({ words, labels: [...l] })),
    terms: [...terms.values()],
    phrases: [...phrases],
    speech_only: speechOnly,
    suggestions: speechOnly
      .map((word) => ({ word, labels: nearLabels(word).filter((l) => !labels.has(l)) }))
      .filter((s) => s.labels.length > 0),
    unknown: [...unknown],
  };
  if (labels.size === 0 && terms.size === 0 && phrases.size === 0) understood.note = NOTHING_SEARCHABLE_NOTE;
  return understood;
}

const sameLabels = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((l) => b.includes(l));

function longestLexiconMatch(
  tokens: readonly string[],
  at: number,
): { labels: readonly string[]; length: number } | undefined {
  for (let n = Math.min(MAX_PHRASE_WORDS, tokens.length - at); n >= 1; n--) {
    const labels = LEXICON.get(lexiconKey(tokens.slice(at, at + n)));
    if (labels) return { labels, length: n };
  }
  return undefined;
}

function isUsableTerm(word: string): boolean {
  if (word.length > MAX_TERM_CHARS) return false;
  return word.length >= 2 || /^\p{N}$/u.test(word);
}
