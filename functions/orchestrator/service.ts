import type { FinalResult } from '../../common/contracts/final.js';
import type { RequestPage, SearchRequest, SubmitRequest } from '../../common/contracts/request.js';
import type { RequestState } from '../../common/contracts/state.js';
import type { SearchResult } from '../../common/contracts/video-index.js';
import { ConflictError, InputError, NotFoundError } from '../../common/errors.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import { assertUrlAllowed } from '../../common/net-policy.js';
import { resolveProfile } from '../../common/profiles.js';
import { checkRepeat, requestDigest } from '../../common/request-digest.js';
import { search } from '../../common/search/index.js';
import { finishRequest, isTerminal, leaseState, sourceTask } from '../../common/state/lifecycle.js';
import { type CheckedListQuery, listRequests, putRequestMarker } from '../../common/state/request-list.js';
import { createState, readState, updateState } from '../../common/state/state-store.js';
import { CallbackOutbox, enqueueCallback } from './callback-outbox.js';
import type { OrchestratorConfig } from './config.js';
import { copySourceTask } from './copy-source.js';
import { type DriveResult, RequestDriver } from './driver.js';
import { requestIdFor } from './request-identity.js';
import { newRequestState } from './request-state.js';
import { parseSource, precheckSource } from './source.js';
import type { LocalTasks, TaskRunnerDeps } from './task-runner.js';

/** What the drivers it starts need (see TaskRunnerDeps), and the orchestrator's own. */
export interface ServiceDeps extends TaskRunnerDeps {
  config: OrchestratorConfig;
  /** Re-invokes the orchestrator asynchronously (through the gateway) to continue a request. */
  continueLater: (requestId: string) => Promise<void>;
  /** Process shutdown: drivers stop without further writes (see DriverOptions.stopSignal). */
  stopSignal?: AbortSignal;
}

/** What the handler turns into an HTTP answer. */
export type Outcome =
  | { kind: 'final'; result: FinalResult }
  | { kind: 'status'; state: RequestState; httpStatus: number; note?: string };

export function bucketOf(storeUrl: string): string | undefined {
  const url = new URL(storeUrl);
  if (url.protocol === 's3:') return url.hostname;
  return url.pathname.split('/').filter(Boolean).pop();
}

export class OrchestratorService {
  /** The tasks this orchestrator runs itself: copying the source (copy-source.ts). */
  private readonly local: LocalTasks;

  constructor(private readonly deps: ServiceDeps) {
    const { store, config } = deps;
    this.local = { 'copy-source': copySourceTask({ store, config, storeBucket: bucketOf(store.url) }) };
  }

  /**
   * Starts a request (or, for an id that exists and the same body, reports it:
   * the same Idempotency-Key or request_id never starts a second run, and with
   * another body is refused). Everything that can be refused is checked before
   * the first write.
   */
  async submit(body: SubmitRequest, idempotencyKey: string | undefined, callId?: string): Promise<Outcome> {
    const { store, config, now } = this.deps;
    const { id, by } = requestIdFor(body, { idempotencyKey, callId }, config.requestIdKey);
    const digest = requestDigest(body);
    if (by && (await checkRepeat(store, id, digest, by)) === 'same') return this.existing(id);

    const profile = resolveProfile(body.profile, body.overrides);
    const source = await parseSource(body.video_uri, bucketOf(store.url), config.sourcePolicy);
    await precheckSource(store, source);
    if (body.callback_url) {
      if (!config.callbackSigningKey) {
        throw new InputError(
          'CALLBACKS_NOT_CONFIGURED',
          'callback_url needs the callback-signing-key secret',
        );
      }
      await assertUrlAllowed(body.callback_url, config.callbackPolicy, 'CALLBACK_URL_REFUSED');
    }

    const state = newRequestState({
      id,
      namespace: config.namespace,
      profile: body.profile,
      params: profile,
      request: {
        video_uri: body.video_uri,
        query: body.query,
        ...(body.callback_url ? { callback_url: body.callback_url } : {}),
        ...(idempotencyKey ? { idempotency_key: idempotencyKey } : {}),
        digest,
      },
      owner: config.owner,
      at: now(),
      ttlMs: config.ttlMs,
      leaseMs: config.leaseMs,
    });
    // The sweeper's marker goes first: a failure right after createState must not leave a
    // request no sweep can find (a marker without a state is cleaned up by the sweeper).
    await store.put(indexKeys.active(id), '', {});
    try {
      await createState(store, state);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Another submission under this id won the race: ours is a repeat of it, or refused.
      if (by) await checkRepeat(store, id, digest, by);
      return this.existing(id);
    }
    await putRequestMarker(store, { request_id: id, created_at: state.created_at, query: body.query });
    this.deps.logger.info({ request_id: id }, 'request accepted');
    return this.run(id);
  }

  /** Continues a request from state.json (resume, continuation, sweeper). */
  async resume(id: string): Promise<Outcome> {
    const { state } = await readState(this.deps.store, id);
    if (isTerminal(state.status)) return this.existing(id);
    return this.run(id);
  }

  async cancel(id: string): Promise<Outcome> {
    const { store, now, config } = this.deps;
    const { state } = await updateState(store, id, (s) => {
      if (isTerminal(s.status) || s.cancel_requested) return false;
      s.cancel_requested = true;
      s.updated_at = now().toISOString();
      // Nobody is driving it: cancel at once. Otherwise the driver sees the flag on its next write.
      if (leaseState(s, now()) !== 'live') finishRequest(s, 'CANCELLED', null, now().toISOString());
      return true;
    });
    if (state.status === 'CANCELLED') await this.afterFinish(state, config.owner);
    return { kind: 'status', state, httpStatus: 200 };
  }

  async status(id: string): Promise<Outcome> {
    return this.existing(id, false);
  }

  /** A page of the requests, newest first (the same listing as `clipseek ls`). */
  async list(query: CheckedListQuery): Promise<RequestPage> {
    return listRequests(this.deps.store, query);
  }

  /** The query answered from every analysed video of this deployment's namespace (or those named). */
  search(call: SearchRequest): Promise<SearchResult> {
    const { store, config, logger } = this.deps;
    return search(store, config.namespace, call.search, {
      limit: call.limit,
      videos: call.videos,
      maxDocumentBytes: config.searchMaxDocumentBytes,
      onSkip: (skipped) => logger.warn(skipped, 'video index document skipped'),
    });
  }

  /**
   * Requests a driver in this process is driving. Every driver of a process
   * holds the lease under the same owner, so the lease cannot stop a second
   * delivery of the same call to this replica (the queue-worker redelivers
   * after ack_wait) from driving the request a second time: this does.
   */
  private readonly driving = new Set<string>();

  private async run(id: string): Promise<Outcome> {
    if (this.driving.has(id)) {
      const { state } = await readState(this.deps.store, id);
      return { kind: 'status', state, httpStatus: 202, note: 'another orchestrator is driving it' };
    }
    this.driving.add(id);
    try {
      return await this.drive(id);
    } finally {
      this.driving.delete(id);
    }
  }

  private async drive(id: string): Promise<Outcome> {
    const { store, config, invoke, logger, now, random } = this.deps;
    const driver = new RequestDriver(id, {
      store,
      invoke,
      logger: logger.child({ request_id: id }),
      now,
      random,
      local: this.local,
      sourceRetry: config,
      owner: config.owner,
      leaseMs: config.leaseMs,
      flushIntervalMs: config.flushIntervalMs,
      budgetMs: config.budgetMs,
      maxConcurrent: config.maxConcurrent,
      ...(this.deps.stopSignal ? { stopSignal: this.deps.stopSignal } : {}),
    });
    const result = await driver.drive();
    return this.settle(id, result);
  }

  private async settle(id: string, result: DriveResult): Promise<Outcome> {
    switch (result.outcome) {
      case 'finished':
        await this.afterFinish(result.state, this.deps.config.owner, result.result);
        return { kind: 'final', result: result.result };
      case 'already-final':
      case 'overtaken':
        return this.existing(id);
      case 'busy':
      case 'lease-lost':
      case 'abandoned':
        return {
          kind: 'status',
          state: result.state,
          httpStatus: 202,
          note: 'another orchestrator is driving it',
        };
      case 'budget-spent':
        await this.deps.continueLater(id);
        return { kind: 'status', state: result.state, httpStatus: 202, note: 'continuing asynchronously' };
      case 'paused':
        return { kind: 'status', state: result.state, httpStatus: 202, note: waitingNote(result.state) };
    }
  }

  /** Callback deliveries running after their request's answer. */
  private readonly background = new Set<Promise<void>>();
  private outbox: CallbackOutbox | undefined;

  /** Resolves once the background work started so far (callback deliveries) has ended. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** Sends callbacks; undefined without a signing key (no callback_url is accepted then). */
  private callbackOutbox(): CallbackOutbox | undefined {
    const { store, logger, now, config } = this.deps;
    if (!config.callbackSigningKey) return undefined;
    this.outbox ??= new CallbackOutbox({
      store,
      logger,
      now,
      settings: {
        signingKey: config.callbackSigningKey,
        policy: config.callbackPolicy,
        attempts: config.callbackAttempts,
        backoffMs: config.callbackBackoffMs,
        timeoutMs: config.callbackTimeoutMs,
      },
    });
    return this.outbox;
  }

  /**
   * Index bookkeeping and the callback, once a request is final. The callback
   * is put in the outbox before the request leaves index/active (until then a
   * crash leaves it to the sweeper, which enqueues it too), and is delivered in
   * the background: the caller's answer never waits for it.
   */
  private async afterFinish(
    state: RequestState,
    _owner: string,
    result: FinalResult | null = null,
  ): Promise<void> {
    const { store, logger, now } = this.deps;
    const queued = await enqueueCallback(store, state, now());
    await store.delete(indexKeys.active(state.request_id));
    const outbox = this.callbackOutbox();
    if (!queued || !outbox) return;
    const delivery = outbox
      .deliver(state.request_id, result, this.deps.stopSignal)
      .catch((err: unknown) =>
        logger.warn({ request_id: state.request_id, err }, 'callback delivery stopped; the sweeper goes on'),
      )
      .finally(() => this.background.delete(delivery));
    this.background.add(delivery);
  }

  /** The existing request: its final result when there is one, else its status. */
  private async existing(id: string, finalIfDone = true): Promise<Outcome> {
    const { store } = this.deps;
    const { state } = await readState(store, id);
    if (finalIfDone && isTerminal(state.status)) {
      try {
        const { value } = await store.getJson<FinalResult>(requestKeys(id).final);
        return { kind: 'final', result: value };
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return { kind: 'status', state, httpStatus: isTerminal(state.status) ? 200 : 202 };
  }
}

/** Why a request waits, when its source copy waits out a backoff (the sweeper resumes it after). */
function waitingNote(state: RequestState): string {
  const copy = sourceTask(state);
  const why = copy?.error ? ` after ${copy.error.code}: ${copy.error.message}` : '';
  return `waiting to copy the source again at ${copy?.retry_at} (attempt ${copy?.attempts ?? 0} failed${why})`;
}
