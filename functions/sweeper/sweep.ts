import pLimit from 'p-limit';
import type { RequestState } from '../../common/contracts/state.js';
import { NotFoundError, StateCorruptError, toClipseekError } from '../../common/errors.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import { finishRequest, isTerminal, leaseState, waitsToCopySource } from '../../common/state/lifecycle.js';
import { readState, updateState } from '../../common/state/state-store.js';
import type { ObjectInfo, ObjectStore } from '../../common/storage/types.js';
import { type CallbackOutbox, enqueueCallback } from '../orchestrator/callback-outbox.js';

export interface SweepDeps {
  store: ObjectStore;
  logger: Logger;
  now: () => Date;
  /** Asks the orchestrator to resume a request (async, through the gateway). */
  resume: (requestId: string) => Promise<void>;
  /** A request whose lease expired less than this long ago is left alone (its driver may be between writes). */
  graceMs: number;
  /** Sends the callbacks still in the outbox; without it (no signing key) they wait for a sweeper that has one. */
  callbacks?: CallbackOutbox;
}

export interface SweepReport {
  checked: number;
  resumed: string[];
  expired: string[];
  cleaned: string[];
  /** Requests whose state.json is corrupt, moved from index/active to index/quarantine. */
  quarantined: string[];
  callbacks: { delivered: string[]; given_up: string[]; pending: string[] };
  /** Requests this sweep could not handle (the next sweep tries again); the others were swept. */
  failed: Array<{ request_id: string; code: string; message: string }>;
}

/** Callbacks sent at once; each attempt is bounded by CALLBACK_TIMEOUT_S. */
const CALLBACK_CONCURRENCY = 4;
const JSON_TYPE = { contentType: 'application/json' };

/**
 * One sweep over the unfinished requests (index/active/): a request past its
 * TTL becomes EXPIRED; one whose driver died (lease expired, or none while
 * not finished) is resumed; finished ones leave the index; a corrupt one is
 * quarantined. Then every callback still due is attempted once. A request that
 * fails is reported and the sweep goes on: one bad request never blocks the rest.
 */
export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = {
    checked: 0,
    resumed: [],
    expired: [],
    cleaned: [],
    quarantined: [],
    callbacks: { delivered: [], given_up: [], pending: [] },
    failed: [],
  };
  const failed = (id: string, err: unknown) => {
    const e = toClipseekError(err);
    deps.logger.error({ request_id: id, err: e }, 'sweep could not handle this request');
    report.failed.push({ request_id: id, code: e.code, message: e.message });
  };
  for await (const object of deps.store.listAll(indexKeys.activePrefix)) {
    const id = indexKeys.idFromKey(object.key);
    report.checked += 1;
    try {
      await sweepRequest(deps, id, object, report);
    } catch (err) {
      if (!(err instanceof StateCorruptError)) {
        failed(id, err);
        continue;
      }
      try {
        await quarantine(deps, id, object.key, err);
        report.quarantined.push(id);
      } catch (quarantineErr) {
        failed(id, quarantineErr);
      }
    }
  }
  if (deps.callbacks) await sweepCallbacks(deps, deps.callbacks, report, failed);
  return report;
}

async function sweepRequest(deps: SweepDeps, id: string, marker: ObjectInfo, report: SweepReport) {
  let state: RequestState;
  try {
    state = (await readState(deps.store, id)).state;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    // A fresh marker may belong to a request whose state.json is being created right now.
    if (deps.now().getTime() - marker.lastModified.getTime() < deps.graceMs) return;
    await deps.store.delete(marker.key);
    report.cleaned.push(id);
    return;
  }
  const now = deps.now();
  if (isTerminal(state.status)) {
    // Its orchestrator died between finishing and enqueueing the callback: do it for it.
    await enqueueCallback(deps.store, state, now);
    await deps.store.delete(marker.key);
    report.cleaned.push(id);
    return;
  }
  const leaseLive = leaseState(state, now, deps.graceMs) === 'live';
  if (Date.parse(state.expires_at) <= now.getTime() && !leaseLive) {
    const { state: after } = await updateState(deps.store, id, (s) => {
      if (isTerminal(s.status)) return false;
      const error = { code: 'REQUEST_EXPIRED', message: 'the request passed its time to live unfinished' };
      finishRequest(s, 'EXPIRED', error, now.toISOString());
      return true;
    });
    if (after.status === 'EXPIRED') {
      await enqueueCallback(deps.store, after, now);
      await deps.store.delete(marker.key);
      report.expired.push(id);
    }
    return;
  }
  // A request waiting out the backoff of its source copy is resumed once that has passed.
  if (!leaseLive && !waitsToCopySource(state, now)) {
    deps.logger.info({ request_id: id }, 'resuming a request whose driver is gone');
    await deps.resume(id);
    report.resumed.push(id);
  }
}

/**
 * A request whose state.json cannot be read leaves index/active for
 * index/quarantine, so sweeps stop retrying it; state.json stays as it is for
 * an operator (who may repair it and put index/active/<id> back).
 */
async function quarantine(deps: SweepDeps, id: string, markerKey: string, err: StateCorruptError) {
  const entry = {
    request_id: id,
    state_key: requestKeys(id).state,
    code: err.code,
    message: err.message,
    quarantined_at: deps.now().toISOString(),
  };
  await deps.store.put(indexKeys.quarantine(id), JSON.stringify(entry), JSON_TYPE);
  await deps.store.delete(markerKey);
  deps.logger.error({ request_id: id, err }, 'state.json is corrupt; request quarantined');
}

async function sweepCallbacks(
  deps: SweepDeps,
  outbox: CallbackOutbox,
  report: SweepReport,
  failed: (id: string, err: unknown) => void,
) {
  const ids: string[] = [];
  for await (const object of deps.store.listAll(indexKeys.callbacksPrefix)) {
    ids.push(indexKeys.idFromKey(object.key));
  }
  const limit = pLimit(CALLBACK_CONCURRENCY);
  await Promise.all(
    ids.map((id) =>
      limit(async () => {
        try {
          const next = await outbox.attempt(id);
          if (next.kind === 'wait') report.callbacks.pending.push(id);
          else if (next.outcome !== 'none') report.callbacks[next.outcome].push(id);
        } catch (err) {
          failed(id, err);
        }
      }),
    ),
  );
}
