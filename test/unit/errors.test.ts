import { describe, expect, it } from 'vitest';
import { ErrorBody } from '../../common/contracts/common.js';
import {
  CancelledError,
  ClipseekError,
  ConflictError,
  InputError,
  InternalError,
  isRetryable,
  NotFoundError,
  RetryableError,
  TimeoutError,
  toClipseekError,
  toErrorBody,
} from '../../common/errors.js';

describe('error hierarchy', () => {
  it.each([
    [new InputError('BAD_QUERY', 'm'), 'BAD_QUERY', 422, false, 'InputError'],
    [new NotFoundError('NOT_FOUND', 'm'), 'NOT_FOUND', 404, false, 'NotFoundError'],
    [new ConflictError('m'), 'PRECONDITION_FAILED', 412, false, 'ConflictError'],
    [new RetryableError('STORAGE_THROTTLED', 'm'), 'STORAGE_THROTTLED', 503, true, 'RetryableError'],
    [new TimeoutError('STAGE_TIMEOUT', 'm'), 'STAGE_TIMEOUT', 504, true, 'TimeoutError'],
    [new CancelledError(), 'CANCELLED', 499, false, 'CancelledError'],
    [new InternalError('m'), 'INTERNAL', 500, true, 'InternalError'],
    [new ClipseekError('X', 'm'), 'X', 500, false, 'ClipseekError'],
  ])('%o has code %s, status %i, retryable %s', (err, code, status, retryable, name) => {
    expect(err).toBeInstanceOf(ClipseekError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code, status, retryable, name });
    expect(isRetryable(err)).toBe(retryable);
  });

  it('subclasses cannot be made to lie about retryable', () => {
    expect(new InputError('X', 'm', { status: 400 } as never).retryable).toBe(false);
    expect(new ConflictError('m', { retryable: true } as never).retryable).toBe(false);
    expect(new RetryableError('X', 'm', { retryable: false } as never).retryable).toBe(true);
    expect(new InternalError('m', { retryable: false }).retryable).toBe(false); // bounded opt-out is allowed
  });

  it('keeps cause and details', () => {
    const root = new Error('socket closed');
    const err = new RetryableError('STORAGE_UNAVAILABLE', 'storage unreachable', {
      cause: root,
      details: { key: 'a/b' },
      retryAfterMs: 250,
    });
    expect(err.cause).toBe(root);
    expect(err.details).toEqual({ key: 'a/b' });
    expect(err.retryAfterMs).toBe(250);
    expect(new InputError('X', 'm').details).toEqual({});
    expect('cause' in new InputError('X', 'm')).toBe(false);
  });
});

describe('toClipseekError', () => {
  it('returns a ClipseekError unchanged', () => {
    const err = new NotFoundError('NOT_FOUND', 'gone');
    expect(toClipseekError(err)).toBe(err);
  });

  it('wraps a plain Error as retryable InternalError, keeping it as cause', () => {
    const plain = new TypeError('x is undefined');
    const wrapped = toClipseekError(plain);
    expect(wrapped).toBeInstanceOf(InternalError);
    expect(wrapped).toMatchObject({ code: 'INTERNAL', message: 'x is undefined', retryable: true });
    expect(wrapped.cause).toBe(plain);
  });

  it('maps an AbortError to CancelledError', () => {
    const abort = new DOMException('The operation was aborted', 'AbortError');
    const controller = new AbortController();
    controller.abort();
    for (const e of [abort, controller.signal.reason]) {
      const wrapped = toClipseekError(e);
      expect(wrapped).toBeInstanceOf(CancelledError);
      expect(wrapped.cause).toBe(e);
      expect(isRetryable(e)).toBe(false);
    }
  });

  it('wraps non-Error throwables', () => {
    expect(toClipseekError('boom')).toMatchObject({ code: 'INTERNAL', message: 'boom' });
    expect(toClipseekError(undefined)).toBeInstanceOf(InternalError);
    expect(toClipseekError({ weird: true }).cause).toEqual({ weird: true });
  });
});

describe('toErrorBody', () => {
  it('is the one error shape, valid against the ErrorBody contract', () => {
    const body = toErrorBody(new InputError('INVALID_KEY', 'bad key', { details: { key: '../x' } }));
    expect(body).toEqual({ error: { code: 'INVALID_KEY', message: 'bad key', details: { key: '../x' } } });
    expect(ErrorBody.parse(body)).toEqual(body);
  });

  it('carries code, message and details only (no cause, no stack)', () => {
    const body = toErrorBody(new Error('unexpected'));
    expect(body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(body)).not.toContain('stack');
    expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
    expect(ErrorBody.safeParse(body).success).toBe(true);
  });
});
