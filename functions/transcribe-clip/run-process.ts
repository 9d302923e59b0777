import { spawn } from 'node:child_process';
import { CancelledError, TimeoutError } from '../../common/errors.js';
import { TranscribeFailedError, TranscriberUnavailableError } from './errors.js';

const STDERR_TAIL_CHARS = 4096;
/** Far more than any transcript prints; a runaway process is stopped rather than filling memory. */
const MAX_STDOUT_CHARS = 32 * 1024 * 1024;

export interface ProcessCall {
  path: string;
  args: readonly string[];
  signal?: AbortSignal | undefined;
  /** Kill the process after this long. */
  timeoutMs: number;
}

export interface ProcessResult {
  stdout: string;
  stderrTail: string;
}

/**
 * Runs a speech engine binary with an argument array (no shell) in its own
 * process group, so a timeout or an abort kills everything it started.
 * Resolves with its stdout on exit code 0; rejects with
 * TranscriberUnavailableError (cannot start), TimeoutError TRANSCRIBE_TIMEOUT,
 * CancelledError or TranscribeFailedError — always after the process is gone.
 */
export function runProcess(call: ProcessCall): Promise<ProcessResult> {
  const { signal } = call;
  if (signal?.aborted) return Promise.reject(new CancelledError('transcription cancelled before it started'));
  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(call.path, [...call.args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    let stopReason: 'timeout' | 'abort' | 'overflow' | undefined;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const stop = (reason: NonNullable<typeof stopReason>) => {
      if (stopReason) return;
      stopReason = reason;
      killGroup();
    };
    const onAbort = () => stop('abort');
    const timer = setTimeout(() => stop('timeout'), call.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ stdout, stderrTail });
    };

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_STDOUT_CHARS) stop('overflow');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.once('error', (err) => {
      killGroup();
      finish(
        new TranscriberUnavailableError(`speech engine could not be started (${call.path})`, {
          details: { path: call.path },
          cause: err,
        }),
      );
    });
    child.once('close', (exitCode, exitSignal) => {
      if (stopReason === 'timeout') {
        finish(
          new TimeoutError(
            'TRANSCRIBE_TIMEOUT',
            `speech engine ran past ${call.timeoutMs} ms and was killed`,
            {
              details: { timeout_ms: call.timeoutMs },
            },
          ),
        );
      } else if (stopReason === 'abort') {
        finish(new CancelledError('transcription cancelled', { cause: signal?.reason }));
      } else if (stopReason === 'overflow') {
        finish(new TranscribeFailedError('speech engine printed more than expected', { retryable: false }));
      } else if (exitCode === 0) {
        finish(undefined);
      } else {
        const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
        finish(
          new TranscribeFailedError(`speech engine ${how}`, {
            retryable: exitSignal !== null,
            details: { exit_code: exitCode, signal: exitSignal, stderr_tail: stderrTail },
          }),
        );
      }
    });
  });
}
