/**
 * One error hierarchy for the whole project. Every error carries a stable
 * `code` (part of the API), the HTTP status it maps to, and whether retrying
 * the same call can succeed. Callers classify by type or by `retryable`,
 * never by message text. `cause` is always kept.
 */
export type ErrorDetails = Record<string, unknown>;

export interface ClipseekErrorOptions {
  status?: number;
  retryable?: boolean;
  details?: ErrorDetails;
  cause?: unknown;
}

export class ClipseekError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, options: ClipseekErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** Bad input from the caller: retrying the same call cannot succeed. */
export class InputError extends ClipseekError {
  constructor(code: string, message: string, options: Omit<ClipseekErrorOptions, 'retryable'> = {}) {
    super(code, message, { status: 422, ...options, retryable: false });
  }
}

/** Input that is well-formed but names something that does not exist. */
export class NotFoundError extends ClipseekError {
  constructor(
    code: string,
    message: string,
    options: Omit<ClipseekErrorOptions, 'retryable' | 'status'> = {},
  ) {
    super(code, message, { ...options, status: 404, retryable: false });
  }
}

/**
 * A conditional write lost: the object exists (create-if-absent) or its ETag
 * changed (replace-if-match). The caller re-reads and decides again.
 */
export class ConflictError extends ClipseekError {
  constructor(message: string, options: Omit<ClipseekErrorOptions, 'retryable' | 'status'> = {}) {
    super('PRECONDITION_FAILED', message, { ...options, status: 412, retryable: false });
  }
}

/** A passing failure (throttling, 5xx, connection reset): the same call may succeed later. */
export class RetryableError extends ClipseekError {
  readonly retryAfterMs: number | undefined;
  constructor(
    code: string,
    message: string,
    options: Omit<ClipseekErrorOptions, 'retryable'> & { retryAfterMs?: number } = {},
  ) {
    super(code, message, { status: 503, ...options, retryable: true });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Work ran past its deadline. Retryable: a slow replica or a cold start may be the reason. */
export class TimeoutError extends ClipseekError {
  constructor(
    code: string,
    message: string,
    options: Omit<ClipseekErrorOptions, 'retryable' | 'status'> = {},
  ) {
    super(code, message, { ...options, status: 504, retryable: true });
  }
}

/** The work was cancelled by its caller (AbortSignal). Not retried. */
export class CancelledError extends ClipseekError {
  constructor(message = 'cancelled', options: Omit<ClipseekErrorOptions, 'retryable' | 'status'> = {}) {
    super('CANCELLED', message, { ...options, status: 499, retryable: false });
  }
}

/**
 * A stored object is not what it must be (not JSON, or breaking its schema):
 * damage or a bug, not the caller's input. Reading it again gives the same bytes.
 */
export class CorruptDataError extends ClipseekError {
  constructor(code: string, message: string, options: Omit<ClipseekErrorOptions, 'retryable'> = {}) {
    super(code, message, { status: 500, ...options, retryable: false });
  }
}

/**
 * A request's state.json cannot be read (truncated, or breaks its schema).
 * 409: the request is in a state no call can work with, and retrying will
 * not change that (only an operator can; the bytes are kept for them).
 */
export class StateCorruptError extends CorruptDataError {
  constructor(
    requestId: string,
    message: string,
    options: Omit<ClipseekErrorOptions, 'retryable' | 'status'> = {},
  ) {
    super('STATE_CORRUPT', message, {
      ...options,
      status: 409,
      details: { request_id: requestId, ...options.details },
    });
  }
}

/**
 * Work for a request that has finished (a stage call that outlived its caller):
 * it must not change the request. Not retryable: the request will not reopen.
 */
export class RequestFinishedError extends ClipseekError {
  constructor(requestId: string, options: Omit<ClipseekErrorOptions, 'retryable' | 'status'> = {}) {
    super('REQUEST_FINISHED', `request ${requestId} has finished; late work is discarded`, {
      ...options,
      status: 409,
      retryable: false,
      details: { request_id: requestId, ...options.details },
    });
  }
}

/** A bug or an unclassified failure. Retried a bounded number of times: most are transient. */
export class InternalError extends ClipseekError {
  constructor(message: string, options: Omit<ClipseekErrorOptions, 'status'> = {}) {
    super('INTERNAL', message, { retryable: true, ...options, status: 500 });
  }
}

/** Wraps anything thrown into a ClipseekError, keeping the original as `cause`. */
export function toClipseekError(err: unknown): ClipseekError {
  if (err instanceof ClipseekError) return err;
  if (err instanceof Error && err.name === 'AbortError')
    return new CancelledError(err.message, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}

export function isRetryable(err: unknown): boolean {
  return toClipseekError(err).retryable;
}

export interface ErrorBodyShape {
  error: { code: string; message: string; details: ErrorDetails };
}

/** The one JSON error shape every function and the gateway answer with. */
export function toErrorBody(err: unknown): ErrorBodyShape {
  const e = toClipseekError(err);
  return { error: { code: e.code, message: e.message, details: e.details } };
}
