import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ClipseekError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { type Gateway, startGateway } from '../../gateway/index.js';
import { defineCommand, type Io, noPositionals, writeLines } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { readRunningStack, removeRunningStack, writeRunningStack } from '../local-stack.js';
import { DEFAULT_STACK_FILE, ROOT } from '../paths.js';
import { dataDirFrom, nonEmpty } from '../settings.js';

/** The hosts sources and callbacks may use on a local stack unless the environment says otherwise. */
const LOCAL_HOSTS = '127.0.0.1,localhost,::1';

const USAGE = `usage: clipseek up [--port 8080] [--data .clipseek] [--storage URL] [--detach]

Starts the whole local stack: the local OpenFaaS-compatible gateway with every
function of stack.yml, each in its own process, on the folder store
<data>/bucket (or --storage s3://…). Prints where things are; Ctrl-C stops
everything. Generates <data>/secrets/callback-signing-key on first use, and
lets sources and callbacks use this machine (SOURCE_ALLOWED_HOSTS and
CALLBACK_ALLOWED_HOSTS default to ${LOCAL_HOSTS}).

options:
      --port N        gateway port (default: $CLIPSEEK_PORT or 8080; 0 picks a free one)
      --host ADDR     listen address (default 127.0.0.1)
      --data DIR      data folder (default: $CLIPSEEK_DATA, else the nearest
                      .clipseek/ here or in a parent folder, else ./.clipseek)
      --storage URL   file:///abs/dir or s3://bucket?endpoint=… (default: $STORAGE_URL,
                      else file://<data>/bucket)
      --stack FILE    the stack file (default: the repository's stack.yml)
  -d, --detach        run in the background (log in <data>/up.log); stop with clipseek down
      --quiet         only warnings and errors from the gateway, nothing from the functions
  -h, --help          this help`;

export const upCommand = defineCommand({
  name: 'up',
  summary: 'start the local stack (gateway + every function)',
  usage: USAGE,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    stack: { type: 'string' },
    detach: { type: 'boolean', short: 'd' },
    quiet: { type: 'boolean' },
  },
  async run({ values, positionals }, io, argv) {
    noPositionals(positionals);
    if (values.gateway) throw new UsageError('--gateway does not apply to up: it starts one (see --port)');
    const dataDir = dataDirFrom(values.data, io.env, io.cwd);
    const port = parsePort(values.port ?? nonEmpty(io.env.CLIPSEEK_PORT) ?? '8080');
    const running = readRunningStack(dataDir);
    if (running) {
      throw new ClipseekError(
        'ALREADY_UP',
        `a stack already runs on ${dataDir} (pid ${running.pid}, ${running.gateway_url}); stop it with clipseek down`,
      );
    }
    if (values.detach) return detach(argv, dataDir, io);

    mkdirSync(join(dataDir, 'bucket'), { recursive: true });
    const secretsDir = join(dataDir, 'secrets');
    const newKey = ensureSigningKey(secretsDir);
    const storageUrl =
      values.storage ?? nonEmpty(io.env.STORAGE_URL) ?? pathToFileURL(join(dataDir, 'bucket')).href;
    const gateway = await startGateway({
      stackFile: resolve(io.cwd, values.stack ?? DEFAULT_STACK_FILE),
      root: ROOT,
      port,
      host: values.host ?? '127.0.0.1',
      storageUrl,
      secretsDir,
      env: { ...io.env, ...allowedHosts(io.env) },
      logger: createLogger({ name: 'gateway', level: values.quiet ? 'warn' : (io.env.LOG_LEVEL ?? 'info') }),
      functionOutput: values.quiet ? 'ignore' : 'inherit',
    }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new ClipseekError(
          'PORT_IN_USE',
          `port ${port} is in use: pick another with --port (0 = any free port)`,
          {
            cause: err,
          },
        );
      }
      throw err;
    });
    writeRunningStack(dataDir, {
      pid: process.pid,
      gateway_url: gateway.url,
      storage_url: storageUrl,
      started_at: new Date().toISOString(),
      ...(io.env.CLIPSEEK_UP_LOG ? { log_file: io.env.CLIPSEEK_UP_LOG } : {}),
    });
    writeLines(io.out, banner(gateway, storageUrl, dataDir, newKey, false));
    await untilSignal();
    io.err.write('clipseek: stopping the stack…\n');
    // A second Ctrl-C while functions drain stops at once.
    process.once('SIGINT', () => process.exit(130));
    await gateway.close();
    removeRunningStack(dataDir, process.pid);
    io.err.write('clipseek: stopped\n');
    return EXIT.OK;
  },
});

/** What the functions of a local stack are given: this machine is allowed unless the environment says. */
export function allowedHosts(
  env: NodeJS.ProcessEnv,
): Record<'SOURCE_ALLOWED_HOSTS' | 'CALLBACK_ALLOWED_HOSTS', string> {
  return {
    SOURCE_ALLOWED_HOSTS: nonEmpty(env.SOURCE_ALLOWED_HOSTS) ?? LOCAL_HOSTS,
    CALLBACK_ALLOWED_HOSTS: nonEmpty(env.CALLBACK_ALLOWED_HOSTS) ?? LOCAL_HOSTS,
  };
}

function banner(
  gateway: Gateway,
  storageUrl: string,
  dataDir: string,
  newKey: boolean,
  detached: boolean,
): string[] {
  return [
    `clipseek is up${detached ? ' (in the background)' : ''}`,
    `  gateway    ${gateway.url}   (${[...gateway.functions.keys()].join(', ')})`,
    `  store      ${storageUrl}`,
    `  secrets    ${join(dataDir, 'secrets')}${newKey ? '   (new callback-signing-key generated)' : ''}`,
    `  stop       ${detached ? 'clipseek down' : 'Ctrl-C'}`,
    'next: clipseek run <video.mp4> --query "find the motorbike"',
  ];
}

/** The key callbacks are signed with, in Standard Webhooks' whsec_<base64> form: generated once, kept private. */
function ensureSigningKey(secretsDir: string): boolean {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const file = join(secretsDir, 'callback-signing-key');
  if (existsSync(file) && readFileSync(file, 'utf8').trim() !== '') return false;
  writeFileSync(file, `whsec_${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return true;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** Starts `clipseek up` again in its own session, logging to <data>/up.log, and waits until it is ready. */
async function detach(argv: string[], dataDir: string, io: Io): Promise<number> {
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'up.log');
  const log = openSync(logFile, 'w');
  const args = argv.filter((a) => a !== '--detach' && a !== '-d');
  const entry = process.argv[1];
  if (!entry) throw new ClipseekError('INTERNAL', 'cannot tell which script to start again');
  const child = spawn(process.execPath, [...process.execArgv, entry, 'up', ...args, '--data', dataDir], {
    cwd: io.cwd,
    env: { ...io.env, CLIPSEEK_UP_LOG: logFile },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  const deadline = Date.now() + 180_000;
  for (;;) {
    const running = readRunningStack(dataDir);
    if (running && running.pid === child.pid) {
      child.unref();
      writeLines(io.out, [
        'clipseek is up (in the background)',
        `  gateway    ${running.gateway_url}`,
        `  store      ${running.storage_url}`,
        `  log        ${logFile}`,
        '  stop       clipseek down',
      ]);
      return EXIT.OK;
    }
    if (exited !== undefined || Date.now() > deadline) {
      if (exited === undefined) child.kill('SIGTERM');
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new ClipseekError('UP_FAILED', `the stack did not come up (see ${logFile}):\n${tail}`);
    }
    await delay(100);
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`bad port "${text}"`);
  return port;
}
