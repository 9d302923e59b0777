import { stem } from './stem.js';
import { words } from './tokenize.js';

/** The stems of the tokens of one transcript word ("ice-cream" → ["ice", "cream"]). */
export type WordStems = (word: string) => readonly string[];

export const wordStems: WordStems = (word) => words(word).map(stem);

/**
 * wordStems remembering up to `max` words: a search meets the same few
 * thousand words in every video, and normalizing + stemming is most of what
 * ranking words costs. Past `max` distinct words it computes them afresh.
 */
export function rememberedWordStems(max: number): WordStems {
  const known = new Map<string, readonly string[]>();
  return (word) => {
    let stems = known.get(word);
    if (stems === undefined) {
      stems = wordStems(word);
      if (known.size < max) known.set(word, stems);
    }
    return stems;
  };
}
