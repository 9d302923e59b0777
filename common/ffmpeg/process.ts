import { spawn } from 'node:child_process';
import { CancelledError, TimeoutError } from '../errors.js';
import { FfmpegError, type FfmpegTool, FfmpegUnavailableError } from './errors.js';

/** How much of stderr a failure keeps: ffmpeg's reason is at the end. */
export const STDERR_TAIL_CHARS = 4096;

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
 * Runs ffmpeg or ffprobe with an argument array (never a shell) in its own
 * process group, so a timeout or an abort kills it together with anything it
 * started. Resolves on exit code 0; otherwise rejects with FfmpegError
 * (stderr tail kept), TimeoutError FFMPEG_TIMEOUT or CancelledError — always
 * after the process is gone.
 */
export function runTool(call: ToolCall): Promise<ToolResult> {
  const { tool, signal } = call;
  if (signal?.aborted) {
    return Promise.reject(new CancelledError(`${tool} not started: cancelled`, { cause: signal.reason }));
  }
  return new Promise<ToolResult>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(call.path, [...call.args], {
      cwd: call.cwd,
      detached: true, // its own process group: one kill reaches every process ffmpeg spawned
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderrTail = '';
    let stopReason: 'timeout' | 'abort' | undefined;
    let settled = false;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const stop = (reason: 'timeout' | 'abort') => {
      if (stopReason) return;
      stopReason = reason;
      killGroup();
    };
    const onAbort = () => stop('abort');
    const timer = call.timeoutMs ? setTimeout(() => stop('timeout'), call.timeoutMs) : undefined;
    signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ stderrTail, durationMs: Math.round(performance.now() - started) });
    };

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => call.onStdout?.(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });

    child.once('error', (err) => {
      killGroup();
      finish(new FfmpegUnavailableError(tool, call.path, err));
    });
    child.once('close', (exitCode, exitSignal) => {
      if (stopReason === 'timeout') {
        finish(
          new TimeoutError('FFMPEG_TIMEOUT', `${tool} ran past ${call.timeoutMs} ms and was killed`, {
            details: { tool, timeout_ms: call.timeoutMs, stderr_tail: stderrTail },
          }),
        );
      } else if (stopReason === 'abort') {
        finish(new CancelledError(`${tool} cancelled`, { cause: signal?.reason }));
      } else if (exitCode === 0) {
        finish(undefined);
      } else {
        const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
        finish(new FfmpegError(`${tool} ${how}`, { tool, exitCode, signal: exitSignal, stderrTail }));
      }
    });
  });
}
