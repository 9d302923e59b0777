import { z } from 'zod';
import { ClipIndex, ErrorInfo, ObjectKey, RequestId, Seconds, TimeRange } from './common.js';
import { RequestStatus } from './request.js';

export const UnderstoodQuery = z.object({
  labels: z.array(z.string()),
  terms: z.array(z.string()),
  phrases: z.array(z.string()),
  /** Query words that mapped to no label and were not usable as terms. */
  unknown: z.array(z.string()),
  /** Set when nothing in the query is searchable: the result then holds no matches, by design. */
  note: z.string().optional(),
});
export type UnderstoodQuery = z.infer<typeof UnderstoodQuery>;

export const Match = z.object({
  clip: ClipIndex,
  /** Source time range of the clip. */
  start: Seconds,
  end: Seconds,
  score: z.number().nonnegative(),
  why: z.object({
    labels: z.array(
      z.object({ label: z.string(), ranges: z.array(TimeRange), best_score: z.number().min(0).max(1) }),
    ),
    /** Words heard, with source times. */
    words: z.array(z.object({ word: z.string(), term: z.string(), start: Seconds, end: Seconds })),
  }),
  transcript: z.string(),
  video_key: ObjectKey.optional(),
  thumbnail_key: ObjectKey.optional(),
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
  matches: z.array(Match),
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
