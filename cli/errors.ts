import { ClipseekError, InputError } from '../common/errors.js';

/** Exit codes of the `clipseek` command. */
export const EXIT = {
  /** Done; for run/watch/resume: the request SUCCEEDED. */
  OK: 0,
  /** The request did not succeed, or something failed on the way. */
  FAILED: 1,
  /** The command line was wrong. */
  USAGE: 2,
} as const;

/** A wrong command line: unknown verb or option, missing argument. */
export class UsageError extends InputError {
  constructor(message: string) {
    super('USAGE', message, { status: 400 });
  }
}

/** The gateway (or a function behind it) answered with an error body. */
export class CallError extends ClipseekError {
  constructor(code: string, message: string, status: number, details: Record<string, unknown>) {
    super(code, message, { status, details, retryable: status >= 500 || status === 429 });
  }
}

/** Nothing answers at the gateway URL. */
export class GatewayUnreachableError extends ClipseekError {
  constructor(url: string, cause: unknown) {
    super('GATEWAY_UNREACHABLE', `cannot reach the gateway at ${url} — is \`clipseek up\` running?`, {
      status: 503,
      retryable: true,
      details: { url },
      cause,
    });
  }
}
