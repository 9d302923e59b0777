import { ClipseekError, ConflictError, NotFoundError, RetryableError, toClipseekError } from '../errors.js';
import { parseRetryAfter } from '../http/retry-after.js';

/** The parts of an AWS SDK v3 error we classify by (never its message text). */
interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const THROTTLING_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

const DEFAULT_THROTTLE_WAIT_MS = 1000;

/**
 * Maps what the AWS SDK throws (after its own retries) onto the project's
 * error hierarchy, keeping the SDK error as `cause`.
 */
export function mapS3Error(err: unknown, context: { key?: string; operation: string }): ClipseekError {
  if (err instanceof ClipseekError) return err;
  if (typeof err !== 'object' || err === null) return toClipseekError(err);
  const e = err as SdkErrorShape & Error;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const details = { ...context, s3_error: name, http_status: status ?? null };
  const options = { details, cause: err };
  const where = context.key === undefined ? context.operation : `${context.operation} ${context.key}`;

  if (name === 'AbortError') return toClipseekError(err);
  if (name === 'PreconditionFailed' || status === 412 || name === 'ConditionalRequestConflict') {
    return new ConflictError(`conditional write lost: ${where}`, options);
  }
  if (name === 'NoSuchBucket') {
    return new ClipseekError('STORAGE_BUCKET_NOT_FOUND', `bucket does not exist: ${where}`, {
      ...options,
      status: 500,
    });
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return new NotFoundError('NOT_FOUND', `no object at key: ${context.key ?? '(none)'}`, options);
  }
  if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || status === 403 || status === 401) {
    return new ClipseekError('STORAGE_FORBIDDEN', `storage refused access: ${where}`, {
      ...options,
      status: 500,
    });
  }
  if (THROTTLING_NAMES.has(name) || status === 429) {
    return new RetryableError('STORAGE_THROTTLED', `storage is throttling: ${where}`, {
      ...options,
      retryAfterMs: retryAfterMs(e) ?? DEFAULT_THROTTLE_WAIT_MS,
    });
  }
  if (status !== undefined && status >= 500) {
    const wait = retryAfterMs(e);
    return new RetryableError('STORAGE_UNAVAILABLE', `storage unavailable (${status}): ${where}`, {
      ...options,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    });
  }
  if (NETWORK_CODES.has(e.code ?? '') || NETWORK_NAMES.has(name)) {
    return new RetryableError('STORAGE_UNAVAILABLE', `storage unreachable: ${where}`, options);
  }
  if (status !== undefined && status >= 400) {
    return new ClipseekError(
      'STORAGE_REQUEST_REJECTED',
      `storage rejected the request (${status}): ${where}`,
      {
        ...options,
        status: 500,
      },
    );
  }
  return toClipseekError(err);
}

/** The Retry-After of the SDK's raw response, if it had one. */
function retryAfterMs(e: SdkErrorShape): number | undefined {
  const headers = e.$response?.headers ?? {};
  return parseRetryAfter(headers['retry-after'] ?? headers['Retry-After']);
}
