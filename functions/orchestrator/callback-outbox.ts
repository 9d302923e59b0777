/**
 * Callbacks that survive a crash and never hold up an answer. When a request
 * finishes, its callback becomes a record in the bucket
 * (requests/{id}/metadata/callback.json) plus a marker index/callbacks/{id},
 * both written before the request leaves index/active. The orchestrator then
 * delivers it in the background, after its answer; should it die, the sweeper
 * finds the marker and goes on, until delivered or CALLBACK_ATTEMPTS are spent.
 * Every attempt is recorded in state.json's `callbacks`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { CallbackBody } from '../../common/contracts/callback.js';
import { ErrorInfo, IsoTime, RequestId } from '../../common/contracts/common.js';
import type { FinalResult } from '../../common/contracts/final.js';
import { RequestStatus } from '../../common/contracts/request.js';
import type { RequestState } from '../../common/contracts/state.js';
import { ConflictError, CorruptDataError, NotFoundError } from '../../common/errors.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import { updateState } from '../../common/state/state-store.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { type CallbackAttemptRecord, deliveryId, sendCallback } from './callbacks.js';
import type { CallbackSettings } from './config.js';

export const CallbackRecord = z.object({
  delivery_id: z.string().min(1),
  request_id: RequestId,
  url: z.string(),
  /** The final status and error the callback reports. */
  status: RequestStatus,
  error: ErrorInfo.nullable(),
  created_at: IsoTime,
  /** Attempts started so far. */
  attempts: z.number().int().nonnegative(),
  /** No attempt starts before this: the backoff, or the time an attempt in flight may still take. */
  next_attempt_at: IsoTime,
  outcome: z.enum(['pending', 'delivered', 'given_up']),
});
export type CallbackRecord = z.infer<typeof CallbackRecord>;

const JSON_TYPE = { contentType: 'application/json' };

/**
 * Puts a finished request's callback in the outbox (once: a record that exists
 * keeps its attempts). Needs no signing key, so the sweeper can do it for a
 * request whose orchestrator died before it could. False: no callback_url.
 */
export async function enqueueCallback(store: ObjectStore, state: RequestState, now: Date): Promise<boolean> {
  const url = state.request.callback_url;
  if (!url) return false;
  const record: CallbackRecord = {
    delivery_id: deliveryId(state.request_id, state.status),
    request_id: state.request_id,
    url,
    status: state.status,
    error: state.error,
    created_at: now.toISOString(),
    attempts: 0,
    next_attempt_at: now.toISOString(),
    outcome: 'pending',
  };
  const key = requestKeys(state.request_id).callback;
  try {
    await store.putIfAbsent(key, JSON.stringify(record), JSON_TYPE);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    const existing = await readRecord(store, state.request_id);
    if (existing?.record.outcome !== 'pending') return true; // delivered or given up already
  }
  await store.put(indexKeys.callback(state.request_id), '', {});
  return true;
}

/** What one call of `attempt` left to do. */
export type AttemptOutcome =
  | { kind: 'done'; outcome: 'delivered' | 'given_up' | 'none' }
  | { kind: 'wait'; until: number };

export interface OutboxDeps {
  store: ObjectStore;
  logger: Logger;
  now: () => Date;
  settings: CallbackSettings & { signingKey: string };
}

export class CallbackOutbox {
  constructor(private readonly deps: OutboxDeps) {}

  /**
   * Attempts until delivered or given up, waiting out the backoff in between
   * (the orchestrator, in the background after its answer). `stop` (process
   * shutdown) ends it between attempts; the sweeper carries on from the record.
   */
  async deliver(requestId: string, result: FinalResult | null, stop?: AbortSignal): Promise<void> {
    while (!stop?.aborted) {
      const next = await this.attempt(requestId, result);
      if (next.kind === 'done') return;
      const waitMs = Math.max(0, next.until - this.deps.now().getTime());
      await sleep(waitMs, undefined, stop ? { signal: stop } : {}).catch(() => undefined);
    }
  }

  /**
   * One attempt if one is due. The attempt is claimed first (compare-and-swap
   * on the record, pushing next_attempt_at past the attempt's time limit), so
   * the orchestrator and the sweeper never send the same callback at once.
   * `result` is final.json when the caller has it; otherwise it is read.
   */
  async attempt(requestId: string, result?: FinalResult | null): Promise<AttemptOutcome> {
    const { store, now, settings } = this.deps;
    const read = await readRecord(store, requestId);
    if (!read) {
      await store.delete(indexKeys.callback(requestId));
      return { kind: 'done', outcome: 'none' };
    }
    const { record } = read;
    if (record.outcome !== 'pending') {
      await store.delete(indexKeys.callback(requestId));
      return { kind: 'done', outcome: record.outcome };
    }
    const startedAt = now();
    if (Date.parse(record.next_attempt_at) > startedAt.getTime()) {
      return { kind: 'wait', until: Date.parse(record.next_attempt_at) };
    }
    // The last attempt was cut short (its deliverer died): no more.
    if (record.attempts >= settings.attempts) return this.giveUp(requestId, record, read.etag);
    const attempt = record.attempts + 1;
    const claimed: CallbackRecord = {
      ...record,
      attempts: attempt,
      next_attempt_at: later(startedAt, settings.timeoutMs + this.backoffMs(attempt)),
    };
    let etag: string;
    try {
      etag = (
        await store.putIfMatch(requestKeys(requestId).callback, JSON.stringify(claimed), read.etag, JSON_TYPE)
      ).etag;
    } catch (err) {
      if (err instanceof ConflictError) return { kind: 'wait', until: startedAt.getTime() }; // someone else's turn
      throw err;
    }
    const body: CallbackBody = {
      delivery_id: claimed.delivery_id,
      request_id: requestId,
      status: claimed.status,
      sent_at: startedAt.toISOString(),
      result: result === undefined ? await readFinal(store, requestId) : result,
      error: claimed.error,
    };
    const sent = await sendCallback(claimed.url, body, startedAt, settings);
    await this.recordAttempt(requestId, {
      delivery_id: claimed.delivery_id,
      url: claimed.url,
      attempt,
      at: startedAt.toISOString(),
      ...sent,
    });
    if (sent.delivered) {
      await this.settle(requestId, { ...claimed, outcome: 'delivered' }, etag);
      await store.delete(indexKeys.callback(requestId));
      return { kind: 'done', outcome: 'delivered' };
    }
    if (attempt >= settings.attempts) return this.giveUp(requestId, claimed, etag);
    const retryAt = later(now(), this.backoffMs(attempt));
    await this.settle(requestId, { ...claimed, next_attempt_at: retryAt }, etag);
    this.deps.logger.warn(
      { request_id: requestId, attempt, status: sent.status_code, err: sent.error },
      'callback not delivered; will retry',
    );
    return { kind: 'wait', until: Date.parse(retryAt) };
  }

  private async giveUp(requestId: string, record: CallbackRecord, etag: string): Promise<AttemptOutcome> {
    await this.settle(requestId, { ...record, outcome: 'given_up' }, etag);
    await this.deps.store.delete(indexKeys.callback(requestId));
    this.deps.logger.error({ request_id: requestId, attempts: record.attempts }, 'callback given up');
    return { kind: 'done', outcome: 'given_up' };
  }

  private backoffMs(attempt: number): number {
    return this.deps.settings.backoffMs * 2 ** (attempt - 1);
  }

  /** Writes the attempt's result; a delivery wins over whatever another deliverer wrote meanwhile. */
  private async settle(requestId: string, after: CallbackRecord, etag: string): Promise<void> {
    const { store } = this.deps;
    const key = requestKeys(requestId).callback;
    try {
      await store.putIfMatch(key, JSON.stringify(after), etag, JSON_TYPE);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Our attempt outlived its claim and another one started: keep its record unless we delivered.
      if (after.outcome === 'delivered') await store.put(key, JSON.stringify(after), JSON_TYPE);
    }
  }

  private async recordAttempt(requestId: string, attempt: CallbackAttemptRecord): Promise<void> {
    try {
      await updateState(this.deps.store, requestId, (s) => {
        s.callbacks.push(attempt);
        return true;
      });
    } catch (err) {
      // The attempt happened either way; the outbox record is what drives the retries.
      this.deps.logger.warn({ request_id: requestId, err }, 'could not record the callback attempt');
    }
  }
}

async function readRecord(
  store: ObjectStore,
  requestId: string,
): Promise<{ record: CallbackRecord; etag: string } | undefined> {
  try {
    const { value, etag } = await store.getJson(requestKeys(requestId).callback);
    const parsed = CallbackRecord.safeParse(value);
    if (!parsed.success) {
      throw new CorruptDataError(
        'CALLBACK_RECORD_CORRUPT',
        `callback.json of ${requestId} breaks its schema`,
        {
          details: { request_id: requestId, issues: parsed.error.issues.slice(0, 5) },
        },
      );
    }
    return { record: parsed.data, etag };
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

async function readFinal(store: ObjectStore, requestId: string): Promise<FinalResult | null> {
  try {
    return (await store.getJson<FinalResult>(requestKeys(requestId).final)).value;
  } catch (err) {
    if (err instanceof NotFoundError) return null; // cancelled before it ran, or failed fetching its source
    throw err;
  }
}

function later(from: Date, ms: number): string {
  return new Date(from.getTime() + ms).toISOString();
}
