import { z } from 'zod';
import { ClipIndex, Coverage, ErrorInfo, ObjectKey, RequestId, Seconds, TimeRange } from './common.js';
import { RequestStatus } from './request.js';

export const UnderstoodQuery = z.object({
  /** Every COCO label the query names (the union of `objects`). */
  labels: z.array(z.string()),
  /** Each thing to look for on screen, as the query said it, with the labels that stand for it. */
  objects: z.array(z.object({ words: z.string(), labels: z.array(z.string()).min(1) })),
  terms: z.array(z.string()),
  phrases: z.array(z.string()),
  /** Terms and phrases the detector cannot see: they are searched only in what is said. */
  speech_only: z.array(z.string()),
  /** Labels near a speech-only word, for a query that meant something visible ("hand" → person). */
  suggestions: z.array(z.object({ word: z.string(), labels: z.array(z.string()).min(1) })),
  /** Query words that mapped to no label and were not usable as terms. */
  unknown: z.array(z.string()),
  /** Set when nothing in the query is searchable: the result then holds no matches, by design. */
  note: z.string().optional(),
});
export type UnderstoodQuery = z.infer<typeof UnderstoodQuery>;

/**
 * One answer: a time range of the source where (part of) the query holds,
 * with the evidence merged across clip boundaries.
 */
export const Match = z.object({
  /** Source time range of the answer itself (not of a clip). */
  start: Seconds,
  end: Seconds,
  score: z.number().nonnegative(),
  /** The query's objects, terms and phrases found in this range; `missing`, those that are not. */
  found: z.array(z.string()),
  missing: z.array(z.string()),
  /** The clips the range spans, in order: for playback. */
  clips: z.array(ClipIndex).min(1),
  why: z.object({
    labels: z.array(
      z.object({ label: z.string(), ranges: z.array(TimeRange), best_score: z.number().min(0).max(1) }),
    ),
    /** Words heard, with source times. */
    words: z.array(z.object({ word: z.string(), term: z.string(), start: Seconds, end: Seconds })),
  }),
  /** What is said within the range. */
  transcript: z.string(),
  /** The renditions of `clips`, in the same order (a failed rendition is left out). */
  video_keys: z.array(ObjectKey),
  /** The best frame of the range: where a matched label scored highest, else nearest the first word. */
  thumbnail_key: ObjectKey.optional(),
  /** Source time of that frame. */
  thumbnail_t: Seconds.optional(),
});
export type Match = z.infer<typeof Match>;

export const ClipSummary = z.object({
  clip: ClipIndex,
  start: Seconds,
  end: Seconds,
  video_key: ObjectKey.optional(),
  thumbnail_key: ObjectKey.optional(),
  transcript: z.string().optional(),
  labels: z.array(z.string()),
  failed: z.boolean(),
});

export const FinalResult = z.object({
  schema_version: z.literal(1),
  request_id: RequestId,
  status: RequestStatus,
  query: z.string(),
  understood: UnderstoodQuery,
  /**
   * False when the video holds nothing the query could be answered from: it
   * names nothing the detector can see and the video has no speech. `note` says why.
   */
  answerable: z.boolean(),
  note: z.string().optional(),
  matches: z.array(Match),
  coverage: Coverage.optional(),
  clips: z.number().int().nonnegative(),
  clip_list: z.array(ClipSummary),
  failed_clips: z.array(z.object({ clip: ClipIndex, error: ErrorInfo })),
  source: z.object({ key: ObjectKey, duration_s: Seconds }).optional(),
  metrics: z.object({
    wall_ms: z.number().nonnegative(),
    stages: z.record(
      z.string(),
      z.object({
        tasks: z.number().int(),
        total_ms: z.number().nonnegative(),
        max_ms: z.number().nonnegative(),
      }),
    ),
  }),
  error: ErrorInfo.nullable(),
});
export type FinalResult = z.infer<typeof FinalResult>;
