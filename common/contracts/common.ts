import { z } from 'zod';
import { isValidKey, REQUEST_ID_PATTERN } from '../storage/keys.js';

export const RequestId = z
  .string()
  .regex(REQUEST_ID_PATTERN, 'request_id: 3-64 of [A-Za-z0-9_-], starting alphanumeric');

/**
 * Whose results a request shares (CLIPSEEK_NAMESPACE): stage results, sources
 * and video index documents live under it, and nothing is shared across
 * namespaces (one per tenant; timing would tell a caller that someone in the
 * same namespace already analysed a video).
 */
export const Namespace = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'namespace: 1-63 of [a-z0-9-], starting alphanumeric');
export const DEFAULT_NAMESPACE = 'default';

/** An object key in the bucket (claim-check: payloads carry keys, never bytes). */
export const ObjectKey = z.string().refine(isValidKey, { message: 'not a valid object key' });

export const IsoTime = z.iso.datetime();
/** Seconds, never negative. */
export const Seconds = z.number().finite().nonnegative();
export const ClipIndex = z.number().int().nonnegative().max(99_999);

/** [start, end] in seconds, start <= end. */
export const TimeRange = z.tuple([Seconds, Seconds]).refine(([a, b]) => a <= b, 'range start after end');

export const ErrorInfo = z.object({
  code: z.string().min(1),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
  retryable: z.boolean().optional(),
  /** The HTTP status the error maps to, when it came from an HTTP answer. */
  status: z.number().int().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

/** The one error body: `{"error":{"code","message","details"}}`. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().min(1),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** How much of the source the per-clip stages looked at. */
export const Coverage = z.object({
  duration_s: Seconds,
  analysed_s: Seconds,
  /** analysed_s / duration_s, 0..1. */
  ratio: z.number().min(0).max(1),
  /** Source ranges no per-clip stage finished (failed clips that were tolerated). */
  unanalysed: z.array(TimeRange),
});
export type Coverage = z.infer<typeof Coverage>;
