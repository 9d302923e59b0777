import { setTimeout as delay } from 'node:timers/promises';
import { FinalResult } from '../common/contracts/final.js';
import type { RequestState } from '../common/contracts/state.js';
import { ClipseekError, NotFoundError } from '../common/errors.js';
import { requestKeys } from '../common/keys.js';
import { isTerminal } from '../common/state/lifecycle.js';
import { readState } from '../common/state/state-store.js';
import type { ObjectStore } from '../common/storage/types.js';
import type { Answer } from './orchestrator-client.js';
import { elapsedOf, formatElapsed, isStalled, type ProgressView } from './progress.js';
import { requestNotFound } from './requests.js';

export interface FollowOptions {
  store: ObjectStore;
  requestId: string;
  /** A sync call in flight (submit or resume): an error answer before any state exists ends the wait. */
  call?: Promise<Answer> | undefined;
  view?: ProgressView | undefined;
  /** Shown until state.json exists. */
  phase?: string | undefined;
  /**
   * Called when the request is stalled (nobody holds its lease: the
   * orchestrator process died) and no call is in flight: asks for a resume
   * instead of waiting for the sweeper. Omitted: only watch.
   */
  revive?: (() => Promise<Answer>) | undefined;
  /**
   * With no call in flight (watch, cancel), how long state.json may be missing
   * before the request is taken for unknown: one just submitted has none until
   * the orchestrator takes it. Default MISSING_GRACE_MS.
   */
  missingGraceMs?: number | undefined;
  intervalMs?: number;
  now?: () => Date;
}

const REVIVE_EVERY_MS = 5000;
export const MISSING_GRACE_MS = 10_000;

export interface Followed {
  state: RequestState;
  /** final.json, parsed; absent when the request ended without one (cancelled before it ran). */
  final?: FinalResult;
  /** final.json exactly as stored (what `--json` prints). */
  finalText?: string;
}

/**
 * Watches a request through its state.json until it reaches a terminal
 * status, drawing progress on the way. The store, not the HTTP call, is the
 * truth: a sync call may be handed over (202) or cut off while the request
 * goes on, so the call only matters when it fails before anything was stored.
 */
export async function follow(opts: FollowOptions): Promise<Followed> {
  const { store, requestId, view } = opts;
  const now = opts.now ?? (() => new Date());
  const interval = opts.intervalMs ?? 300;
  const started = Date.now();
  let settled: { answer?: Answer; error?: unknown } | undefined;
  let callDone: Promise<void> | undefined;
  const track = (call: Promise<Answer>) => {
    settled = undefined;
    callDone = call.then(
      (answer) => {
        settled = { answer };
      },
      (error: unknown) => {
        settled = { error };
      },
    );
  };
  if (opts.call) track(opts.call);
  let lastRevive = 0;
  const inFlight = () => callDone !== undefined && settled === undefined;
  for (;;) {
    const answered = settled;
    const state = await tryReadState(store, requestId);
    view?.update({
      requestId,
      state,
      phase: opts.phase,
      elapsedMs: state ? elapsedOf(state, now()) : Date.now() - started,
    });
    if (state && isTerminal(state.status)) return { state, ...(await readFinal(store, requestId)) };
    if (answered && !state) {
      // Refused before anything was stored (bad input, unknown id, nothing listening).
      if (answered.error !== undefined) throw answered.error;
      if (answered.answer?.kind === 'error') throw answered.answer.error;
      // The orchestrator knows the request, yet this store does not: the CLI looks in the wrong place.
      throw new ClipseekError(
        'STATE_NOT_IN_STORE',
        `the orchestrator answered for ${requestId}, but ${store.url} holds no state for it: ` +
          'point --storage (or STORAGE_URL) at the store the functions use',
        { details: { request_id: requestId, storage_url: store.url } },
      );
    }
    const grace = opts.missingGraceMs ?? MISSING_GRACE_MS;
    if (!state && callDone === undefined && Date.now() - started >= grace) {
      throw requestNotFound(requestId, store.url, ` (waited ${formatElapsed(grace)} for its state.json)`);
    }
    // At most one resume every few seconds: a live driver just answers "busy".
    if (
      state &&
      opts.revive &&
      !inFlight() &&
      isStalled(state, now()) &&
      Date.now() - lastRevive > REVIVE_EVERY_MS
    ) {
      lastRevive = Date.now();
      track(opts.revive());
    }
    await Promise.race([delay(interval), ...(inFlight() && callDone ? [callDone] : [])]);
  }
}

export async function tryReadState(store: ObjectStore, requestId: string): Promise<RequestState | undefined> {
  try {
    return (await readState(store, requestId)).state;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

export async function readFinal(
  store: ObjectStore,
  requestId: string,
): Promise<{ final?: FinalResult; finalText?: string }> {
  let text: string;
  try {
    text = (await store.getBytes(requestKeys(requestId).final)).toString('utf8');
  } catch (err) {
    if (err instanceof NotFoundError) return {};
    throw err;
  }
  return { final: FinalResult.parse(JSON.parse(text)), finalText: text };
}
