import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Io } from '../../cli/command.js';
import { FUNCTION_STAGES } from '../../common/contracts/pipeline.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The `clipseek` command as users run it (the bundle test/global-setup.ts builds). */
export const CLI = join(ROOT, 'bin/clipseek.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The test process's environment without what would point the CLI elsewhere. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of [
    'GATEWAY_URL',
    'OPENFAAS_URL',
    'STORAGE_URL',
    'CLIPSEEK_DATA',
    'CLIPSEEK_PORT',
    'LOG_LEVEL',
  ])
    delete env[name];
  return { ...env, ...extra };
}

/** An Io to run a command in this process with: what it writes to stdout and stderr is kept. */
export function memoryIo(
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): { io: Io; out: () => string; err: () => string } {
  const text = { out: '', err: '' };
  const sink = (name: 'out' | 'err') =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        text[name] += chunk.toString();
        done();
      },
    });
  return { io: { out: sink('out'), err: sink('err'), env, cwd }, out: () => text.out, err: () => text.err };
}

export interface CliProcess {
  pid: number;
  /** Resolves when it exits. */
  done: Promise<CliResult>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `clipseek <args>` (asynchronously: a gateway in this process must keep answering). */
export function startCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const done = new Promise<CliResult>((resolveDone, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid ?? 0, done, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return startCli(args, options).done;
}

/**
 * One script per stage that serves the fake stage (test/fixtures/functions/fake-stage.ts)
 * through the real adapter: pass as the gateway's `scripts` option.
 */
export function fakeStageScripts(dir: string): Record<string, string> {
  const fixture = pathToFileURL(join(ROOT, 'test/fixtures/functions/fake-stage.ts')).href;
  const scripts: Record<string, string> = {};
  for (const stage of FUNCTION_STAGES) {
    scripts[stage] = join(dir, `fake-${stage}.mts`);
    writeFileSync(
      scripts[stage],
      `import { serveFakeStage } from ${JSON.stringify(fixture)};\nawait serveFakeStage('${stage}');\n`,
    );
  }
  return scripts;
}

export { waitFor as until } from './wait.js';
