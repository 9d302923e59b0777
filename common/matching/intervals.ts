/** Half-open time intervals [start, end) in seconds. */
export type Interval = [start: number, end: number];

/** Sorted, with intervals less than `gap` apart (or overlapping) joined; empty ones dropped. */
export function joinIntervals(intervals: readonly Interval[], gap: number): Interval[] {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const joined: Interval[] = [];
  for (const [a, b] of sorted) {
    const last = joined.at(-1);
    if (last && a - last[1] <= gap) last[1] = Math.max(last[1], b);
    else joined.push([a, b]);
  }
  return joined;
}

export function intersect([a, b]: Interval, [c, d]: Interval): Interval | undefined {
  const start = Math.max(a, c);
  const end = Math.min(b, d);
  return end > start ? [start, end] : undefined;
}

export const overlaps = (x: Interval, y: Interval): boolean => intersect(x, y) !== undefined;

/** Total length of the union. */
export function totalLength(intervals: readonly Interval[]): number {
  return joinIntervals(intervals, 0).reduce((sum, [a, b]) => sum + (b - a), 0);
}

/** The parts of [from, to) that no interval covers. */
export function complement(intervals: readonly Interval[], from: number, to: number): Interval[] {
  const out: Interval[] = [];
  let cursor = from;
  for (const [a, b] of joinIntervals(intervals, 0)) {
    if (a > cursor) out.push([cursor, Math.min(a, to)]);
    cursor = Math.max(cursor, b);
    if (cursor >= to) break;
  }
  if (cursor < to) out.push([cursor, to]);
  return out.filter(([a, b]) => b > a);
}
