import type { Match } from '../../common/contracts/final.js';
import { type Interval, intersect, joinIntervals, totalLength } from '../../common/matching/intervals.js';

/** How an answer's ranges for one label compare with the true ranges. */
export interface RangeScore {
  /** Share of the true time the answer covers (undefined when the label is never there). */
  coverage: number | undefined;
  /** Share of the answered time that is true (undefined when nothing was answered). */
  precision: number | undefined;
  answeredS: number;
  trueS: number;
  /** Separate answers (matches) that claim the label. */
  answers: number;
}

/** The matches that say they saw `label`, as the time ranges they answer. */
export function answeredRanges(matches: readonly Match[], label: string): Interval[] {
  return matches
    .filter((m) => m.why.labels.some((l) => l.label === label))
    .map((m): Interval => [m.start, m.end]);
}

/** Coverage and precision of the union of the answers; how many answers it took. */
export function scoreRanges(answered: readonly Interval[], truth: readonly Interval[]): RangeScore {
  const a = joinIntervals(answered, 0);
  const t = joinIntervals(truth, 0);
  const overlap = totalLength(a.flatMap((x) => t.map((y) => intersect(x, y)).filter((r) => r !== undefined)));
  const answeredS = totalLength(a);
  const trueS = totalLength(t);
  return {
    coverage: trueS > 0 ? overlap / trueS : undefined,
    precision: answeredS > 0 ? overlap / answeredS : undefined,
    answeredS,
    trueS,
    answers: answered.length,
  };
}
