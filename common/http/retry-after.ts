/**
 * A server asking to wait longer than this is not reporting a passing failure; the
 * wait is capped here so no caller turns a hostile value into a date out of range.
 * Callers clamp further to their own backoff limits.
 */
export const RETRY_AFTER_MAX_MS = 86_400_000;

const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;
/** The two HTTP-date forms (RFC 9110 §5.6.7) that name their zone: IMF-fixdate and RFC 850. */
const ZONED_DATE =
  /^(?:[a-z]{3}, \d{2} [a-z]{3} \d{4}|[a-z]{6,9}, \d{2}-[a-z]{3}-\d{2}) \d{2}:\d{2}:\d{2} GMT$/i;
/** asctime(), the form without a zone: it is GMT, not the local time Date.parse would take. */
const ASCTIME = /^[a-z]{3} [a-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/i;

/**
 * The wait a Retry-After header asks for, in ms within [0, RETRY_AFTER_MAX_MS]:
 * delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT") measured
 * from `nowMs`, a date passed being 0. Absent, empty or any other text: undefined
 * (Date.parse alone would take "later 2030" for a date). Of a repeated header, the
 * first counts.
 */
export function parseRetryAfter(
  value: string | readonly string[] | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const text = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (!text) return undefined;
  if (DELAY_SECONDS.test(text)) return bounded(Number(text) * 1000);
  const date = ZONED_DATE.test(text) ? text : ASCTIME.test(text) ? `${text} GMT` : undefined;
  const at = date === undefined ? Number.NaN : Date.parse(date);
  return Number.isFinite(at) ? bounded(at - nowMs) : undefined;
}

const bounded = (ms: number): number => Math.min(Math.max(0, Math.round(ms)), RETRY_AFTER_MAX_MS);
