import { type ErrorBodyShape, RetryableError, toClipseekError, toErrorBody } from '../errors.js';

/** What a function answers for a thrown error. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: ErrorBodyShape;
}

/**
 * Tells callers whether the same call may succeed later, for the cases the
 * status alone cannot say (a non-retryable bug still answers 500).
 */
export const RETRYABLE_HEADER = 'X-Clipseek-Retryable';

/**
 * Maps any thrown value to an HTTP answer. Never a 2xx/3xx: a retryable error
 * is a 5xx (or 429), a non-retryable one keeps its 4xx status, and anything
 * else (a bug) is a 500.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  const e = toClipseekError(err);
  const headers: Record<string, string> = { [RETRYABLE_HEADER]: String(e.retryable) };
  let status: number;
  if (e.retryable) {
    status = e.status === 429 || (e.status >= 500 && e.status <= 599) ? e.status : 503;
    if (e instanceof RetryableError && e.retryAfterMs !== undefined) {
      headers['Retry-After'] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)));
    }
  } else {
    status = e.status >= 400 && e.status <= 599 ? e.status : 500;
  }
  return { status, headers, body: toErrorBody(e) };
}
