/** Query matching: a pure function of the query and the per-clip stage outputs. */
export { COCO_LABELS, type CocoLabel } from './lexicon.js';
export { rankClips, SCORING } from './rank.js';
export { stem } from './stem.js';
export { words as normalizeWords } from './tokenize.js';
export type { ClipEvidence } from './types.js';
export { NOTHING_SEARCHABLE_NOTE, understandQuery } from './understand.js';
