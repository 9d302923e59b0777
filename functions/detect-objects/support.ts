import type { DetectParams } from '../../common/contracts/profile.js';
import type { RawDetection } from './detector.js';

/** One sampled frame's candidates (already suppressed per label), in frame order. */
export interface FrameCandidates {
  t: number;
  detections: RawDetection[];
}

/** The rule's neighbourhood: a frame and the one on each side of it. */
const WINDOW = 3;

/**
 * The temporal support rule. A detection counts when its score reaches
 * `min_score`; a weaker one (≥ `support_score`) counts when its label reaches
 * `support_score` in at least `support_frames` of the 3 neighbouring frames
 * (itself included). Real objects persist from one frame to the next while
 * false positives flicker, so a label seen weakly but steadily is believed
 * and a weak one-off is not. Frames at the ends of the clip have one neighbour.
 */
export function applySupportRule(
  frames: readonly FrameCandidates[],
  params: Pick<DetectParams, 'min_score' | 'support_score' | 'support_frames'>,
): FrameCandidates[] {
  const floor = Math.min(params.min_score, params.support_score);
  const weakLabels = frames.map(
    (f) => new Set(f.detections.filter((d) => d.score >= floor).map((d) => d.label)),
  );
  const half = Math.floor(WINDOW / 2);
  return frames.map((frame, i) => {
    const supported = (label: string) => {
      let count = 0;
      for (let j = Math.max(0, i - half); j <= Math.min(frames.length - 1, i + half); j++) {
        if (weakLabels[j]!.has(label)) count += 1;
      }
      return count >= params.support_frames;
    };
    return {
      t: frame.t,
      detections: frame.detections.filter(
        (d) => d.score >= params.min_score || (d.score >= floor && supported(d.label)),
      ),
    };
  });
}
