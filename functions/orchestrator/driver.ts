import type { RequestState } from '../../common/contracts/state.js';
import { ConflictError, isRetryable } from '../../common/errors.js';
import {
  isTerminal,
  ownsLease,
  renewLease,
  takeLease,
  waitsToCopySource,
} from '../../common/state/lifecycle.js';
import { StateJsonWriter } from '../../common/state/state-json.js';
import { readState, updateState, type VersionedState, writeState } from '../../common/state/state-store.js';
import type { TaskKey } from '../../common/task-key.js';
import {
  applyEvent,
  type Decisions,
  type OrchestratorEvent,
  resumeDecisions,
  type SourceRetry,
} from './decide.js';
import { type FinishResult, writeFinish } from './finish.js';
import { ReadyQueue } from './ready-queue.js';
import { type LocalTasks, OutputCache, runTask, type TaskRunnerDeps } from './task-runner.js';

/** What a task needs (it is handed these as they are), and what driving a request adds. */
export interface DriverOptions extends TaskRunnerDeps {
  /** The tasks this process runs itself (copy-source). */
  local: LocalTasks;
  /** Their retry policy (decide.ts). */
  sourceRetry: SourceRetry;
  /** Identifies this driver in the lease ("host/pid/nonce"). */
  owner: string;
  leaseMs: number;
  /** state.json is written at most this often while running (plus on every finish). */
  flushIntervalMs: number;
  /** Stop launching new tasks after this long, save state and let a continuation take over. */
  budgetMs: number;
  maxConcurrent: number;
  /**
   * Aborting it makes the driver stop at once without writing anything more,
   * as if its process had died: the lease then expires and a resume takes over.
   * (Process shutdown uses it; so do the crash tests.)
   */
  stopSignal?: AbortSignal;
}

export type DriveResult =
  | FinishResult
  | { outcome: 'already-final'; state: RequestState }
  | { outcome: 'busy'; state: RequestState }
  | { outcome: 'lease-lost'; state: RequestState }
  | { outcome: 'budget-spent'; state: RequestState }
  /** Let go (lease released) while a task waits out a backoff; the sweeper resumes it after. */
  | { outcome: 'paused'; state: RequestState }
  | { outcome: 'abandoned'; state: RequestState };

/**
 * Drives one request until it finishes (and makes the final write: the final
 * status, final.json), its time budget runs out, or another driver takes over.
 * All decisions come from decide.ts; this class only does the effects:
 * invocations (under one concurrency cap), timers, and compare-and-swap
 * writes of state.json that re-apply this driver's events when someone else
 * wrote in between (a cancel, the sweeper).
 */
export class RequestDriver {
  private current!: VersionedState;
  private readonly ready = new ReadyQueue();
  private readonly inbox: Array<{ event: OrchestratorEvent; output?: unknown }> = [];
  /** Events applied since the last successful write, to re-apply after a conflict. */
  private journal: OrchestratorEvent[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborter = new AbortController();
  private inFlight = 0;
  private dirty = false;
  private lastWrite = 0;
  private lastWriteCostMs = 0;
  private finish: Decisions['finish'];
  private pause: Decisions['pause'];
  private wake: (() => void) | undefined;
  private cache!: OutputCache;
  private readonly json = new StateJsonWriter();
  private readonly toJson = (state: RequestState) => this.json.serialize(state);

  constructor(
    private readonly requestId: string,
    private readonly opts: DriverOptions,
  ) {}

  async drive(): Promise<DriveResult> {
    const { store, owner, leaseMs, now } = this.opts;
    const at = now();
    // Waiting out the backoff of its source copy: nobody drives it until then, nor writes.
    const taken = await updateState(
      store,
      this.requestId,
      (s) => !waitsToCopySource(s, at) && takeLease(s, owner, at, leaseMs),
    );
    this.current = taken;
    if (isTerminal(taken.state.status)) return { outcome: 'already-final', state: taken.state };
    if (waitsToCopySource(taken.state, at)) return { outcome: 'paused', state: taken.state };
    if (!ownsLease(taken.state, owner)) {
      return { outcome: 'busy', state: taken.state };
    }
    const state = taken.state;
    this.cache = new OutputCache(store, (key) => this.state.tasks[key]?.manifest);
    this.lastWrite = Date.now();
    this.absorb(resumeDecisions(state, now(), this.opts.sourceRetry));
    this.dirty = true;
    const onStop = () => this.wake?.();
    this.opts.stopSignal?.addEventListener('abort', onStop);
    try {
      return await this.loop();
    } finally {
      this.opts.stopSignal?.removeEventListener('abort', onStop);
      for (const t of this.timers) clearTimeout(t);
    }
  }

  /**
   * How often state.json is written while running: the configured interval,
   * stretched so that writing a large state (10 000 clips ≈ 8 MB) takes at
   * most ~5 % of the time, and never so rarely that the lease could lapse.
   */
  private flushEveryMs(): number {
    return Math.min(Math.max(this.opts.flushIntervalMs, 20 * this.lastWriteCostMs), this.opts.leaseMs / 3);
  }

  private get state(): RequestState {
    return this.current.state;
  }

  private async loop(): Promise<DriveResult> {
    const deadline = Date.now() + this.opts.budgetMs;
    for (;;) {
      if (this.opts.stopSignal?.aborted) {
        this.aborter.abort();
        return { outcome: 'abandoned', state: this.state };
      }
      this.drainInbox();
      if (this.finish?.status === 'CANCELLED' || this.finish?.status === 'FAILED') this.aborter.abort();
      const budgetSpent = Date.now() >= deadline;
      const launching = !this.finish && !this.pause && !budgetSpent;
      while (launching && this.ready.size > 0 && this.inFlight < this.opts.maxConcurrent) {
        this.launch(this.ready.pop()!);
      }
      if (this.finish && this.inFlight === 0) return this.complete(this.finish);
      if (this.pause && this.inFlight === 0) return this.handOver('paused');
      if (budgetSpent && this.inFlight === 0) return this.handOver('budget-spent');
      if (!this.finish && this.inFlight === 0 && this.ready.size === 0 && this.timers.size === 0) {
        throw new Error(`request ${this.requestId} is stuck: nothing running, ready or scheduled`);
      }
      await this.sleep(Math.max(5, this.flushEveryMs() - (Date.now() - this.lastWrite)));
      const lost = await this.persistIfDue(false);
      if (lost) return lost;
    }
  }

  private launch(key: TaskKey): void {
    this.inFlight += 1;
    const ctx = {
      namespace: this.state.namespace,
      requestId: this.requestId,
      videoUri: this.state.request.video_uri,
      profile: this.state.params,
    };
    const onStart = () => this.record({ type: 'task-started', key, at: this.opts.now().toISOString() });
    runTask(key, ctx, this.cache, this.opts, onStart, this.aborter.signal)
      .then((outcome) => this.inbox.push(outcome))
      .finally(() => {
        this.inFlight -= 1;
        this.wake?.();
      });
  }

  private drainInbox(): void {
    for (const { event, output } of this.inbox.splice(0)) {
      if (output !== undefined && event.type === 'task-succeeded') this.cache.set(event.key, output);
      this.record(event);
    }
  }

  private record(event: OrchestratorEvent): void {
    this.journal.push(event);
    this.dirty = true;
    this.absorb(applyEvent(this.state, event, this.opts.sourceRetry));
  }

  private absorb(decisions: Decisions): void {
    for (const key of decisions.ready) this.ready.push(key);
    for (const { key, at } of decisions.retry) {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          this.ready.push(key);
          this.wake?.();
        },
        Math.max(0, Date.parse(at) - this.opts.now().getTime()),
      );
      this.timers.add(timer);
    }
    if (decisions.finish && !this.finish) this.finish = decisions.finish;
    if (decisions.pause && !this.pause) this.pause = decisions.pause;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
      if (this.inbox.length > 0) done();
    });
  }

  /**
   * Writes state.json when it changed and the flush interval passed, or when
   * the lease needs renewing. On a conflict, re-reads, checks the lease is
   * still ours, notices a cancel, and re-applies the journal.
   */
  private async persistIfDue(force: boolean): Promise<DriveResult | undefined> {
    const since = Date.now() - this.lastWrite;
    const renew = since >= this.opts.leaseMs / 3;
    if (!force && !renew && (!this.dirty || since < this.flushEveryMs())) return undefined;
    if (this.opts.stopSignal?.aborted) return { outcome: 'abandoned', state: this.state };
    const { store, owner, now, leaseMs } = this.opts;
    for (let failures = 0; ; ) {
      const state = this.state;
      renewLease(state, owner, now(), leaseMs);
      try {
        const started = Date.now();
        this.current = await writeState(store, state, this.current.etag, this.toJson);
        this.lastWriteCostMs = Date.now() - started;
        this.journal = [];
        this.dirty = false;
        this.lastWrite = Date.now();
        return undefined;
      } catch (err) {
        if (!(err instanceof ConflictError)) {
          // Storage throttling or a 5xx: the state stays dirty and the next write carries it.
          // A final write (force) tries a few times before giving up to a resume.
          if (!isRetryable(err) || (force && ++failures > 5)) throw err;
          this.opts.logger.warn({ request_id: this.requestId, err }, 'state.json write failed; will retry');
          if (!force) return undefined;
          await new Promise((r) => setTimeout(r, 100 * 2 ** failures));
          continue;
        }
      }
      const fresh = await readState(store, this.requestId);
      if (!ownsLease(fresh.state, owner)) {
        this.opts.logger.warn({ request_id: this.requestId }, 'lease lost: another driver or a final status');
        this.aborter.abort();
        return { outcome: 'lease-lost', state: fresh.state };
      }
      const cancel = fresh.state.cancel_requested && !this.state.cancel_requested;
      for (const event of this.journal) applyEvent(fresh.state, event, this.opts.sourceRetry);
      this.current = fresh;
      if (cancel) this.record({ type: 'cancel-requested', at: now().toISOString() });
    }
  }

  /** Saves the last events, then makes the final write (finish.ts). */
  private async complete(finish: NonNullable<Decisions['finish']>): Promise<DriveResult> {
    const lost = await this.persistIfDue(true);
    if (lost) return lost;
    // No more running writes: the tasks' kept JSON goes before final.json is assembled and the
    // final state written, the peak of a large request's memory.
    this.json.clear();
    const { store, owner, now } = this.opts;
    return writeFinish(store, this.current, finish, owner, now());
  }

  /**
   * Budget spent: release the lease so the continuation (or the sweeper) can
   * take over at once. Paused: release it so the sweeper resumes the request
   * once the backoff has passed.
   */
  private async handOver(outcome: 'budget-spent' | 'paused'): Promise<DriveResult> {
    this.state.lease = null;
    this.dirty = true;
    const { store } = this.opts;
    this.current = await writeState(store, this.state, this.current.etag, this.toJson).catch(async (err) => {
      if (!(err instanceof ConflictError)) throw err;
      const lost = await this.persistIfDue(true);
      if (lost) throw err;
      this.state.lease = null;
      return writeState(store, this.state, this.current.etag, this.toJson);
    });
    return { outcome, state: this.state };
  }
}
