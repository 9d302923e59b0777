/** common/process/run.ts against real processes (sh, sleep): how each kind of end is reported. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeExit, runProcess, succeeded } from '../../common/process/run.js';
import { isRunning } from '../helpers/processes.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-process-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sh = (script: string, ...args: string[]) => ({ path: 'sh', args: ['-c', script, 'sh', ...args] });

describe('runProcess', () => {
  it('keeps stdout when asked and reports a clean exit', async () => {
    const seen: string[] = [];
    const result = await runProcess({
      ...sh('printf "%s\\n" "$1"; pwd', 'hello'),
      cwd: dir,
      maxStdoutChars: 1000,
      onStdout: (chunk) => seen.push(chunk),
    });
    expect(result.end).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    expect(succeeded(result.end)).toBe(true);
    expect(result.stdout).toBe(`hello\n${dir}\n`);
    expect(seen.join('')).toBe(result.stdout);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('hands stdout only to onStdout when no limit is given', async () => {
    const seen: string[] = [];
    const result = await runProcess({ ...sh('echo streamed'), onStdout: (chunk) => seen.push(chunk) });
    expect(seen.join('')).toBe('streamed\n');
    expect(result.stdout).toBe('');
  });

  it('passes arguments as they are, never through a shell', async () => {
    const marker = join(dir, 'injected');
    const argument = `$(touch ${marker}); \`touch ${marker}\``;
    const result = await runProcess({ path: 'echo', args: [argument], maxStdoutChars: 1000 });
    expect(result.stdout).toBe(`${argument}\n`);
    await expect(stat(marker)).rejects.toThrow();
  });

  it('reports a failing exit with its code and the tail of stderr', async () => {
    const result = await runProcess({
      ...sh('printf "%0100d" 0 >&2; printf "the reason" >&2; exit 3'),
      stderrTailChars: 20,
    });
    expect(result.end).toEqual({ kind: 'exited', exitCode: 3, signal: null });
    expect(succeeded(result.end)).toBe(false);
    expect(result.stderrTail).toBe('0000000000the reason');
    expect(describeExit({ exitCode: 3, signal: null })).toBe('exited with code 3');
  });

  it('reports a process killed by someone else by its signal', async () => {
    const result = await runProcess(sh('kill -TERM $$; sleep 5'));
    expect(result.end).toEqual({ kind: 'exited', exitCode: null, signal: 'SIGTERM' });
    expect(describeExit({ exitCode: null, signal: 'SIGTERM' })).toBe('was killed by SIGTERM');
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = join(dir, 'timeout.pid');
    const result = await runProcess({ ...sh('sleep 60 & echo $! > "$1"; wait', pidFile), timeoutMs: 300 });
    expect(result.end).toEqual({ kind: 'timeout', timeoutMs: 300 });
    expect(await isRunning(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('kills the whole process group when the signal aborts', async () => {
    const pidFile = join(dir, 'abort.pid');
    const controller = new AbortController();
    const running = runProcess({
      ...sh('sleep 60 & echo $! > "$1"; echo started; wait', pidFile),
      signal: controller.signal,
      onStdout: () => controller.abort(),
    });
    expect((await running).end).toEqual({ kind: 'aborted', started: true });
    expect(await isRunning(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('does not start at all when the signal is already aborted', async () => {
    const marker = join(dir, 'should-not-exist');
    const result = await runProcess({ path: 'touch', args: [marker], signal: AbortSignal.abort() });
    expect(result.end).toEqual({ kind: 'aborted', started: false });
    await expect(stat(marker)).rejects.toThrow();
  });

  it('stops a process that prints more than it may', async () => {
    const result = await runProcess({ path: 'yes', args: [], maxStdoutChars: 10_000 });
    expect(result.end).toEqual({ kind: 'overflow', maxStdoutChars: 10_000 });
    expect(result.stdout.length).toBeGreaterThan(10_000);
  });

  it('reports a binary that cannot be started', async () => {
    const result = await runProcess({ path: join(dir, 'no-such-binary'), args: [] });
    expect(result.end.kind).toBe('spawn-failed');
    expect(result.end.kind === 'spawn-failed' && result.end.error).toMatchObject({ code: 'ENOENT' });
  });
});
