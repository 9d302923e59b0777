import { spawn } from 'node:child_process';

/** How much of stderr a result keeps unless told otherwise: a tool's reason for failing is at the end. */
export const STDERR_TAIL_CHARS = 4096;

export interface ProcessCall {
  /** The binary to run (looked up on PATH when it is a bare name). */
  path: string;
  /** Passed as an argument array, never through a shell. */
  args: readonly string[];
  cwd?: string | undefined;
  /** Aborting it kills the process group. */
  signal?: AbortSignal | undefined;
  /** Kill the process group after this long; undefined or 0 = no limit. */
  timeoutMs?: number | undefined;
  /** Receives stdout (UTF-8) as it arrives. */
  onStdout?: ((chunk: string) => void) | undefined;
  /**
   * Keep stdout in the result, up to this many characters; a process that
   * prints more is killed (`overflow`). Unset: stdout is not kept.
   */
  maxStdoutChars?: number | undefined;
  /** How much of the end of stderr to keep; default STDERR_TAIL_CHARS. */
  stderrTailChars?: number | undefined;
}

/** How the process ended. Only `exited` with exit code 0 is a success. */
export type ProcessEnd =
  /** It ended on its own, or something other than us killed it (`signal`, e.g. the OOM killer). */
  | { kind: 'exited'; exitCode: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout'; timeoutMs: number }
  /** The caller's signal fired; `started` is false when it had fired before the spawn. */
  | { kind: 'aborted'; started: boolean }
  | { kind: 'overflow'; maxStdoutChars: number }
  /** The binary could not be started at all (missing, not executable). */
  | { kind: 'spawn-failed'; error: Error };

export interface ProcessResult {
  end: ProcessEnd;
  /** What it printed, when `maxStdoutChars` was given; otherwise ''. */
  stdout: string;
  stderrTail: string;
  durationMs: number;
}

export function succeeded(end: ProcessEnd): boolean {
  return end.kind === 'exited' && end.exitCode === 0;
}

/** "exited with code 1" / "was killed by SIGSEGV": for error messages. */
export function describeExit(end: { exitCode: number | null; signal: NodeJS.Signals | null }): string {
  return end.signal ? `was killed by ${end.signal}` : `exited with code ${end.exitCode}`;
}

/**
 * Runs a binary in its own process group (detached), so a timeout or an
 * abort kills it together with anything it started (SIGKILL to the group).
 * Never rejects: the result says how it ended, and each caller turns that
 * into its own errors. Resolves only once the process is gone.
 */
export function runProcess(call: ProcessCall): Promise<ProcessResult> {
  const { signal } = call;
  if (signal?.aborted) {
    return Promise.resolve({
      end: { kind: 'aborted', started: false },
      stdout: '',
      stderrTail: '',
      durationMs: 0,
    });
  }
  return new Promise<ProcessResult>((resolve) => {
    const started = performance.now();
    const child = spawn(call.path, [...call.args], {
      cwd: call.cwd,
      detached: true, // its own process group: one kill reaches every process it spawned
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tailChars = call.stderrTailChars ?? STDERR_TAIL_CHARS;
    let stdout = '';
    let stderrTail = '';
    let stoppedBy: ProcessEnd | undefined; // set when we killed it; reported once it is gone
    let settled = false;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const stop = (end: ProcessEnd) => {
      if (stoppedBy) return;
      stoppedBy = end;
      killGroup();
    };
    const onAbort = () => stop({ kind: 'aborted', started: true });
    const { timeoutMs } = call;
    const timer = timeoutMs ? setTimeout(() => stop({ kind: 'timeout', timeoutMs }), timeoutMs) : undefined;
    signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (end: ProcessEnd) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ end, stdout, stderrTail, durationMs: Math.round(performance.now() - started) });
    };

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      call.onStdout?.(chunk);
      const max = call.maxStdoutChars;
      if (max === undefined) return;
      stdout += chunk;
      if (stdout.length > max) stop({ kind: 'overflow', maxStdoutChars: max });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-tailChars);
    });

    child.once('error', (error) => {
      killGroup();
      finish({ kind: 'spawn-failed', error });
    });
    child.once('close', (exitCode, exitSignal) => {
      finish(stoppedBy ?? { kind: 'exited', exitCode, signal: exitSignal });
    });
  });
}
