import { ClipseekError } from '../../common/errors.js';

/**
 * The engine cannot run here at all (binary or model files missing, engine
 * URL unusable): a deployment problem, so retrying the same call cannot help.
 */
export class TranscriberUnavailableError extends ClipseekError {
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super('TRANSCRIBER_UNAVAILABLE', message, { status: 500, retryable: false, ...options });
  }
}

/**
 * The engine ran and failed. Retryable only when something outside it ended
 * it (a signal such as the OOM killer's); an exit with an error code would
 * fail the same way again.
 */
export class TranscribeFailedError extends ClipseekError {
  constructor(
    message: string,
    options: { retryable: boolean; details?: Record<string, unknown>; cause?: unknown },
  ) {
    super('TRANSCRIBE_FAILED', message, { status: 500, ...options });
  }
}
