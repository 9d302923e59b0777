import { ClipseekError } from '../errors.js';

export type FfmpegTool = 'ffmpeg' | 'ffprobe';

export interface FfmpegFailure {
  tool: FfmpegTool;
  /** Exit code, or null when the process ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last few KB of stderr: what ffmpeg said before it gave up. */
  stderrTail: string;
  /** ffprobe's own error report (`-show_error`): AVERROR code and text. */
  probeError?: { code: number; string?: string | undefined } | undefined;
  cause?: unknown;
}

/**
 * ffmpeg or ffprobe ended with an error. Not retryable when it exited on its
 * own (the same input fails the same way); retryable when something else
 * killed it (e.g. the OOM killer), since another attempt may have room.
 */
export class FfmpegError extends ClipseekError {
  readonly tool: FfmpegTool;
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  readonly stderrTail: string;
  readonly probeError: FfmpegFailure['probeError'];

  constructor(message: string, failure: FfmpegFailure) {
    super('FFMPEG_FAILED', message, {
      status: 500,
      retryable: failure.signal !== null,
      details: {
        tool: failure.tool,
        exit_code: failure.exitCode,
        signal: failure.signal,
        stderr_tail: failure.stderrTail,
        ...(failure.probeError ? { probe_error: failure.probeError } : {}),
      },
      cause: failure.cause,
    });
    this.tool = failure.tool;
    this.exitCode = failure.exitCode;
    this.exitSignal = failure.signal;
    this.stderrTail = failure.stderrTail;
    this.probeError = failure.probeError;
  }
}

/** The ffmpeg/ffprobe binary could not be started at all: a deployment problem, not the input's. */
export class FfmpegUnavailableError extends ClipseekError {
  constructor(tool: FfmpegTool, path: string, cause: unknown) {
    super('FFMPEG_UNAVAILABLE', `${tool} could not be started (${path})`, {
      status: 500,
      retryable: false,
      details: { tool, path },
      cause,
    });
  }
}
