import type { DetectParams } from '../../common/contracts/profile.js';
import type { RawDetection } from './detector.js';

/** Intersection over union of two [x, y, w, h] boxes. */
export function iou(a: RawDetection['box'], b: RawDetection['box']): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * The detections of one frame worth reporting: score ≥ min_score, then
 * greedy non-max suppression per label (a box overlapping a better box of the
 * same label by IoU ≥ iou_threshold is the same object), best first, at most
 * max_detections. Different labels never suppress each other: a rider and
 * the motorcycle under them are both kept.
 */
export function selectDetections(
  candidates: readonly RawDetection[],
  params: Pick<DetectParams, 'min_score' | 'max_detections' | 'iou_threshold'>,
): RawDetection[] {
  const ranked = candidates
    .filter((d) => d.score >= params.min_score)
    .map((d) => ({ ...d, box: clampBox(d.box) }))
    .filter((d) => d.box[2] > 0 && d.box[3] > 0)
    .sort((a, b) => b.score - a.score || a.label.localeCompare(b.label));
  const kept: RawDetection[] = [];
  for (const d of ranked) {
    if (kept.length >= params.max_detections) break;
    const duplicate = kept.some((k) => k.label === d.label && iou(k.box, d.box) >= params.iou_threshold);
    if (!duplicate) kept.push(d);
  }
  return kept;
}

/** Keeps a box inside the frame (models may overshoot the edges a little). */
function clampBox([x, y, w, h]: RawDetection['box']): RawDetection['box'] {
  const x0 = clamp01(x);
  const y0 = clamp01(y);
  const x1 = clamp01(x + w);
  const y1 = clamp01(y + h);
  return [round4(x0), round4(y0), round4(x1 - x0), round4(y1 - y0)];
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
