import { type CocoLabel, LEXICON } from './lexicon.js';
import { stem } from './stem.js';

/**
 * Things people ask to see that the detector has no label for, and the labels
 * that come with them on screen. Not synonyms (those are in lexicon.ts and are
 * searched as the label): only suggestions, shown with the answer.
 */
const NEAR: ReadonlyArray<[string, readonly CocoLabel[]]> = [
  [
    'hand hands arm arms leg legs head heads foot feet finger fingers hair shoe shoes hat hats shirt coat jacket dress',
    ['person'],
  ],
  ['tree trees bush bushes flower_pot leaf leaves garden', ['potted plant']],
  ['box boxes package parcel carton crate', ['suitcase', 'book']],
  ['coffee tea drink drinks beverage', ['cup', 'bottle', 'wine glass']],
  ['wine beer', ['wine glass', 'bottle']],
  ['desk', ['dining table', 'laptop']],
  ['road street highway parking', ['car', 'truck', 'bus']],
  ['sea lake river harbour harbor', ['boat']],
  ['sign signs', ['stop sign']],
  ['lamp light lights', ['traffic light']],
  ['sport sports game', ['sports ball']],
  ['toy toys doll', ['teddy bear']],
];

const NEAR_BY_STEM: ReadonlyMap<string, readonly CocoLabel[]> = new Map(
  NEAR.flatMap(([words, labels]) =>
    words.split(/\s+/).map((w) => [w.split('_').map(stem).join(' '), labels] as const),
  ),
);

/** Single-word lexicon keys (labels and their synonyms), for typo matching. */
const LEXICON_WORDS = [...LEXICON.keys()].filter((k) => !k.includes(' '));

/**
 * Labels near a word the detector cannot see: from the table above, or the
 * label of a lexicon word it is a likely misspelling of ("motorcyle": same
 * first letter, one edit away, two for long words).
 */
export function nearLabels(word: string): CocoLabel[] {
  const key = stem(word);
  const listed = NEAR_BY_STEM.get(key);
  if (listed) return [...listed];
  // Short words are one letter away from too many others ("wear" → bear): no guess for them.
  if (key.length < 5) return [];
  const allowed = key.length < 8 ? 1 : 2;
  let best: { distance: number; labels: readonly CocoLabel[] } | undefined;
  for (const candidate of LEXICON_WORDS) {
    if (candidate[0] !== key[0] || Math.abs(candidate.length - key.length) > allowed) continue;
    const distance = editDistance(key, candidate, allowed);
    if (distance <= allowed && (!best || distance < best.distance)) {
      best = { distance, labels: LEXICON.get(candidate)! };
    }
  }
  return best ? [...best.labels] : [];
}

/** Optimal string alignment distance (a swap of two letters is one edit), giving up past `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    if (Math.min(...row) > limit) return limit + 1;
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
