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
  /** Separate answer ranges for the label. */
  ranges: number;
}

/** The answer's ranges for `label`: the matches that say they saw it there. */
export function answeredRanges(matches: readonly Match[], label: string): Interval[] {
  return joinIntervals(
    matches.filter((m) => m.why.labels.some((l) => l.label === label)).map((m): Interval => [m.start, m.end]),
    0,
  );
}

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
    ranges: a.length,
  };
}
