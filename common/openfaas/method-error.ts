import { ClipseekError } from '../errors.js';

/** A call with a method the function does not take (e.g. GET on a stage). */
export class MethodNotAllowedError extends ClipseekError {
  constructor(method: string, allowed: string[]) {
    super('METHOD_NOT_ALLOWED', `${method} is not accepted; use ${allowed.join(' or ')}`, {
      status: 405,
      retryable: false,
      details: { allowed },
    });
  }
}
