/**
 * One function as one OS process: `node <script>` on a free port, watched.
 * It is ready once GET /_/health answers 200 (the of-watchdog readiness path).
 * A process that dies is started again after a backoff that grows with each
 * failure in a row and resets once a process becomes ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { extname } from 'node:path';
import { ClipseekError, RetryableError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { freePort } from './free-port.js';
import type { FunctionSpec } from './stack.js';

export type ProcessState = 'idle' | 'starting' | 'ready' | 'backoff' | 'stopping' | 'stopped';

export interface FunctionProcessOptions {
  /** The whole environment the process gets (the gateway adds PORT and HOST). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  cwd: string;
  output: 'inherit' | 'ignore';
  /** Extra `node` flags (e.g. --openssl-legacy-provider). */
  nodeArgs: string[];
  startupTimeoutMs: number;
  stopGraceMs: number;
  backoff: { baseMs: number; maxMs: number };
}

interface Waiter {
  resolve: (port: number) => void;
  reject: (err: unknown) => void;
}

export class FunctionProcess {
  readonly spec: FunctionSpec;
  state: ProcessState = 'idle';
  port: number | undefined;
  /** Times the process was started again after dying. */
  restarts = 0;
  startedAt: Date | undefined;
  invocations = 0;
  inFlight = 0;

  private child: ChildProcess | undefined;
  private failuresInARow = 0;
  private waiters: Waiter[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private exited: Promise<void> = Promise.resolve();

  constructor(
    spec: FunctionSpec,
    private readonly options: FunctionProcessOptions,
  ) {
    this.spec = spec;
  }

  get name(): string {
    return this.spec.name;
  }

  /** The environment the process is started with (the gateway adds PORT and HOST). */
  get env(): Readonly<NodeJS.ProcessEnv> {
    return this.options.env;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Takes a slot for a call; false when `max_inflight` calls are already running. */
  tryAcquire(): boolean {
    if (this.spec.maxInflight > 0 && this.inFlight >= this.spec.maxInflight) return false;
    this.inFlight += 1;
    this.invocations += 1;
    return true;
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Starts the process if it is not running (scale from zero). */
  start(): void {
    if (this.state === 'idle') void this.launch();
  }

  /** The port once the process is ready, starting it if needed; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<number> {
    if (this.state === 'ready' && this.port !== undefined) return Promise.resolve(this.port);
    if (this.state === 'stopping' || this.state === 'stopped') {
      return Promise.reject(
        new ClipseekError('GATEWAY_STOPPING', 'the gateway is shutting down', { status: 503 }),
      );
    }
    this.start();
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (port) => {
          clearTimeout(timer);
          resolve(port);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new RetryableError('FUNCTION_NOT_READY', `${this.name} did not become ready in ${timeoutMs} ms`, {
            retryAfterMs: 1000,
            details: { function: this.name, state: this.state },
          }),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** SIGTERM, then SIGKILL after the grace period; no restart afterwards. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const stopping = new ClipseekError('GATEWAY_STOPPING', 'the gateway is shutting down', { status: 503 });
    for (const waiter of this.waiters.splice(0)) waiter.reject(stopping);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), this.options.stopGraceMs);
      await this.exited;
      clearTimeout(killer);
    }
    this.state = 'stopped';
  }

  private async launch(): Promise<void> {
    this.state = 'starting';
    const port = await freePort();
    if (this.state !== 'starting') return;
    this.port = port;
    const script = this.spec.script;
    const nodeArgs = [...this.options.nodeArgs];
    // TypeScript fixtures and development entry points run through tsx.
    if (extname(script) === '.ts' || extname(script) === '.mts') nodeArgs.push('--import', 'tsx');
    const child = spawn(process.execPath, [...nodeArgs, script], {
      cwd: this.options.cwd,
      env: { ...this.options.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', this.options.output, this.options.output],
    });
    this.child = child;
    this.startedAt = new Date();
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(child, code, signal);
        resolve();
      });
    });
    child.once('error', (err) =>
      this.options.logger.error({ err, function: this.name }, 'cannot start function'),
    );
    this.options.logger.info({ function: this.name, pid: child.pid, port, script }, 'function starting');
    void this.waitUntilHealthy(child, port);
  }

  private async waitUntilHealthy(child: ChildProcess, port: number): Promise<void> {
    const deadline = Date.now() + this.options.startupTimeoutMs;
    while (this.child === child && this.state === 'starting') {
      if (await healthy(port)) {
        if (this.child !== child || this.state !== 'starting') return;
        this.state = 'ready';
        this.failuresInARow = 0;
        this.options.logger.info({ function: this.name, pid: child.pid, port }, 'function ready');
        for (const waiter of this.waiters.splice(0)) waiter.resolve(port);
        return;
      }
      if (Date.now() > deadline) {
        this.options.logger.error(
          { function: this.name, startup_timeout_ms: this.options.startupTimeoutMs },
          'function did not become ready; killing it',
        );
        child.kill('SIGKILL');
        return;
      }
      await this.sleep(50);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.failuresInARow += 1;
    const { baseMs, maxMs } = this.options.backoff;
    const delay = Math.min(maxMs, baseMs * 2 ** (this.failuresInARow - 1));
    this.state = 'backoff';
    this.options.logger.warn(
      { function: this.name, pid: child.pid, code, signal, restart_in_ms: delay },
      'function process exited; restarting',
    );
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.state !== 'backoff') return;
      this.restarts += 1;
      void this.launch();
    }, delay);
    this.timers.add(timer);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/_/health', method: 'GET', timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
