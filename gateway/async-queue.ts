/**
 * The in-memory stand-in for NATS + queue-worker: async calls wait here and
 * run in arrival order, at most `concurrency` at once overall. A call whose
 * function is at its max_inflight waits for a slot instead of failing with 429
 * (calls to other functions may pass it meanwhile).
 */
import type { Logger } from '../common/logger.js';
import type { FunctionProcess } from './function-process.js';
import type { UpstreamCall } from './upstream.js';

export interface AsyncJob {
  callId: string;
  fn: FunctionProcess;
  call: UpstreamCall & { body: Buffer };
  callbackUrl: URL | undefined;
  queuedAt: number;
}

export class AsyncQueue {
  private readonly pending: AsyncJob[] = [];
  private running = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(
    /** Runs one job; the job's function slot is already taken and is released by the queue. */
    private readonly run: (job: AsyncJob) => Promise<void>,
    private readonly concurrency: number,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  get active(): number {
    return this.running;
  }

  enqueue(job: AsyncJob): void {
    this.pending.push(job);
    this.pump();
  }

  /** Starts whatever can start now; call again whenever a function slot frees up. */
  pump(): void {
    if (this.stopped) return;
    for (let i = 0; i < this.pending.length && this.running < this.concurrency; ) {
      const job = this.pending[i]!;
      if (!job.fn.tryAcquire()) {
        i += 1;
        continue;
      }
      this.pending.splice(i, 1);
      this.running += 1;
      void this.run(job)
        .catch((err: unknown) => this.logger.error({ err, call_id: job.callId }, 'async call failed'))
        .finally(() => {
          job.fn.release();
          this.running -= 1;
          if (this.running === 0 && this.pending.length === 0) {
            for (const resolve of this.idleWaiters.splice(0)) resolve();
          }
          this.pump();
        });
    }
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops calls that have not started (a restart of NATS without persistence would too). */
  stop(): void {
    this.stopped = true;
    if (this.pending.length > 0) {
      this.logger.warn({ dropped: this.pending.map((j) => j.callId) }, 'dropping queued async calls');
    }
    this.pending.length = 0;
  }
}
