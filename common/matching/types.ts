import type { LabelEvidence, Word } from '../contracts/stages.js';

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
  transcript: string;
  video_key?: string | undefined;
  thumbnail_key?: string | undefined;
}
