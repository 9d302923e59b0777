/**
 * Late work must not change a finished request. A stage call can outlive its
 * caller: a process stopped or slow past the stage timeout goes on after the
 * orchestrator gave up, and the request may have FAILED meanwhile. So a call
 * writes through a guard that checks, before its writes and once more after
 * its manifest, that it still holds its task's claim (else another call owns
 * the task and its keys) and that the request is still open; when the request
 * has finished, the call deletes what it wrote and ends with REQUEST_FINISHED.
 */
import { Readable } from 'node:stream';
import { RequestFinishedError, RetryableError } from './errors.js';
import { indexKeys, requestKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { HeldClaim } from './stage-claim.js';
import type { ObjectStore } from './storage/types.js';

/** A check this recent (monotonic ms, so a stopped process's pause counts) covers the next write. */
const RECHECK_MS = 1000;

/**
 * Whether a request has finished: index/active/{id} exists from before its
 * state.json is created until it is final. With neither (a stage run on its
 * own, as the media tests do) there is no request to protect.
 */
export async function requestFinished(store: ObjectStore, requestId: string): Promise<boolean> {
  if (await store.head(indexKeys.active(requestId))) return false;
  return (await store.head(requestKeys(requestId).state)) !== undefined;
}

export class StageWriteGuard {
  private readonly written = new Set<string>();
  private checkedAt = Number.NEGATIVE_INFINITY;
  /** What the stage writes through: each write is checked (see RECHECK_MS) and remembered. */
  readonly store: ObjectStore;

  constructor(
    private readonly opts: { store: ObjectStore; requestId: string; claim: HeldClaim; logger: Logger },
  ) {
    this.store = guardedStore(opts.store, (key, body, write) => this.write(key, body, write));
  }

  /**
   * Throws when the call may not write: CLAIM_LOST (retryable: the task's new
   * owner answers a retry) when another call took the task over, or
   * REQUEST_FINISHED once the request is final, after deleting what this call
   * wrote (the keys are still its own: the task was not taken over).
   */
  async check(): Promise<void> {
    await this.checkClaim();
    if (await requestFinished(this.opts.store, this.opts.requestId)) {
      await this.rollback();
      throw new RequestFinishedError(this.opts.requestId);
    }
    this.checkedAt = performance.now();
  }

  /** The claim at every write (known without a read while renewals succeed); the request every RECHECK_MS. */
  private async write<T>(key: string, body: unknown, write: () => Promise<T>): Promise<T> {
    try {
      if (performance.now() - this.checkedAt > RECHECK_MS) await this.check();
      else await this.checkClaim();
    } catch (err) {
      if (body instanceof Readable) body.destroy(); // an upload that will not happen: close its file
      throw err;
    }
    // Remembered before the write: one cut short may still have created the object.
    this.written.add(key);
    return write();
  }

  private async checkClaim(): Promise<void> {
    if (await this.opts.claim.held()) return;
    throw new RetryableError('CLAIM_LOST', 'another call took this task over; this one stops', {
      details: { request_id: this.opts.requestId },
    });
  }

  private async rollback(): Promise<void> {
    const { store, requestId, logger } = this.opts;
    for (const key of this.written) {
      await store
        .delete(key)
        .catch((err: unknown) => logger.warn({ key, err }, 'could not delete a late write'));
    }
    if (this.written.size > 0) {
      logger.warn(
        { request_id: requestId, deleted: [...this.written] },
        'request finished; late writes deleted',
      );
    }
    this.written.clear();
  }
}

type GuardedWrite = <T>(key: string, body: unknown, write: () => Promise<T>) => Promise<T>;

/** The store with its writes (put, putIfAbsent, putIfMatch, copy) passed through `guard`. */
function guardedStore(store: ObjectStore, guard: GuardedWrite): ObjectStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'put' || prop === 'putIfAbsent' || prop === 'putIfMatch') {
        const method = target[prop] as (key: string, body: unknown, ...rest: unknown[]) => Promise<unknown>;
        return (key: string, body: unknown, ...rest: unknown[]) =>
          guard(key, body, () => method.call(target, key, body, ...rest));
      }
      if (prop === 'copy') {
        return (from: string, to: string) => guard(to, undefined, () => target.copy(from, to));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
