import { CancelledError, TimeoutError } from '../errors.js';
import { describeExit, runProcess } from '../process/run.js';
import { FfmpegError, type FfmpegTool, FfmpegUnavailableError } from './errors.js';

export interface ToolCall {
  tool: FfmpegTool;
  /** The binary to run. */
  path: string;
  args: readonly string[];
  signal?: AbortSignal | undefined;
  /** Kill the process after this long; undefined or 0 = no limit. */
  timeoutMs?: number | undefined;
  cwd?: string | undefined;
  /** Receives stdout as it arrives (progress lines, or JSON to collect). */
  onStdout?: ((chunk: string) => void) | undefined;
}

export interface ToolResult {
  stderrTail: string;
  durationMs: number;
}

/**
 * Runs ffmpeg or ffprobe (common/process/run.ts: argument array, own process
 * group). Resolves on exit code 0; otherwise rejects with FfmpegError
 * (stderr tail kept), TimeoutError FFMPEG_TIMEOUT, CancelledError or
 * FfmpegUnavailableError — always after the process is gone.
 */
export async function runTool(call: ToolCall): Promise<ToolResult> {
  const { tool, signal } = call;
  const { end, stderrTail, durationMs } = await runProcess({
    path: call.path,
    args: call.args,
    cwd: call.cwd,
    signal,
    timeoutMs: call.timeoutMs,
    onStdout: call.onStdout,
  });
  switch (end.kind) {
    case 'exited':
      if (end.exitCode === 0) return { stderrTail, durationMs };
      throw new FfmpegError(`${tool} ${describeExit(end)}`, {
        tool,
        exitCode: end.exitCode,
        signal: end.signal,
        stderrTail,
      });
    case 'timeout':
      throw new TimeoutError('FFMPEG_TIMEOUT', `${tool} ran past ${end.timeoutMs} ms and was killed`, {
        details: { tool, timeout_ms: end.timeoutMs, stderr_tail: stderrTail },
      });
    case 'aborted':
      throw new CancelledError(end.started ? `${tool} cancelled` : `${tool} not started: cancelled`, {
        cause: signal?.reason,
      });
    case 'spawn-failed':
      throw new FfmpegUnavailableError(tool, call.path, end.error);
    case 'overflow': // not asked for: stdout goes to onStdout, unbounded
      throw new FfmpegError(`${tool} printed more than expected`, {
        tool,
        exitCode: null,
        signal: null,
        stderrTail,
      });
  }
}
