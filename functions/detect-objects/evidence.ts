import type { Detection, LabelEvidence } from '../../common/contracts/stages.js';

/**
 * Per label: the clip-relative time ranges it is seen in and its best score.
 * A detection at t covers [t, t + frameIntervalS); frames of the same label
 * that follow each other (up to half an interval of timestamp jitter) join
 * into one range. Ordered by best score, then label.
 */
export function summarizeLabels(detections: readonly Detection[], frameIntervalS: number): LabelEvidence[] {
  const byLabel = new Map<string, Detection[]>();
  for (const d of detections) byLabel.set(d.label, [...(byLabel.get(d.label) ?? []), d]);

  const out: LabelEvidence[] = [];
  for (const [label, seen] of byLabel) {
    const times = [...new Set(seen.map((d) => d.t))].sort((a, b) => a - b);
    const ranges: [number, number][] = [];
    for (const t of times) {
      const last = ranges.at(-1);
      if (last && t - last[1] <= frameIntervalS / 2) last[1] = round3(t + frameIntervalS);
      else ranges.push([round3(t), round3(t + frameIntervalS)]);
    }
    const best = Math.max(...seen.map((d) => d.score));
    out.push({ label, best_score: best, ranges, frames: times.length });
  }
  return out.sort((a, b) => b.best_score - a.best_score || a.label.localeCompare(b.label));
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
