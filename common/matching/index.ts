/** Query matching: a pure function of the query and the per-clip stage outputs. */

export { complement, type Interval, joinIntervals, totalLength } from './intervals.js';
export { COCO_LABELS, type CocoLabel } from './lexicon.js';
export { nearLabels } from './near.js';
export { compareMatches, type RankOptions, rankRanges, SCORING } from './rank.js';
export { stem } from './stem.js';
export { words as normalizeWords } from './tokenize.js';
export type { ClipEvidence } from './types.js';
export { NOTHING_SEARCHABLE_NOTE, understandQuery } from './understand.js';
