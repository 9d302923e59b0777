import type { Detection, Frame, LabelEvidence, Word } from '../contracts/stages.js';

/**
 * What matching knows about one clip: its place in the source and what the
 * per-clip stages found in it. `words` and `labels` carry clip-relative times
 * (as transcribe-clip and detect-objects write them); `start` turns them into
 * source time.
 */
export interface ClipEvidence {
  clip: number;
  /** Source seconds. */
  start: number;
  end: number;
  words: readonly Word[];
  labels: readonly LabelEvidence[];
  /** Every detection kept (clip-relative t): where each label scored best. Matching needs no boxes. */
  detections?: readonly Omit<Detection, 'box'>[] | undefined;
  /** The sampled frames (clip-relative t): the best frame of a match is one of them. */
  frames?: readonly Frame[] | undefined;
  transcript: string;
  video_key?: string | undefined;
  thumbnail_key?: string | undefined;
}
