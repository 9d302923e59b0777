import type { RequestState } from '../../common/contracts/state.js';
import { NotFoundError } from '../../common/errors.js';
import { indexKeys } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import { readState, updateState } from '../../common/state/state-store.js';
import { assertRequestTransition, isTerminal, waitsToCopyInput } from '../../common/state/transitions.js';
import type { ObjectStore } from '../../common/storage/types.js';

export interface SweepDeps {
  store: ObjectStore;
  logger: Logger;
  now: () => Date;
  /** Asks the orchestrator to resume a request (async, through the gateway). */
  resume: (requestId: string) => Promise<void>;
  /** A request whose lease expired less than this long ago is left alone (its driver may be between writes). */
  graceMs: number;
}

export interface SweepReport {
  checked: number;
  resumed: string[];
  expired: string[];
  cleaned: string[];
}

/**
 * One sweep over the unfinished requests (index/active/): a request past its
 * TTL becomes EXPIRED; one whose driver died (lease expired, or none while
 * not finished) is resumed; finished ones leave the index.
 */
export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = { checked: 0, resumed: [], expired: [], cleaned: [] };
  for await (const object of deps.store.listAll(indexKeys.activePrefix)) {
    const id = indexKeys.idFromKey(object.key);
    report.checked += 1;
    let state: RequestState;
    try {
      state = (await readState(deps.store, id)).state;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      // A fresh marker may belong to a request whose state.json is being created right now.
      if (deps.now().getTime() - object.lastModified.getTime() < deps.graceMs) continue;
      await deps.store.delete(object.key);
      report.cleaned.push(id);
      continue;
    }
    const now = deps.now();
    if (isTerminal(state.status)) {
      await deps.store.delete(object.key);
      report.cleaned.push(id);
      continue;
    }
    const leaseLive =
      state.lease !== null && Date.parse(state.lease.expires_at) + deps.graceMs > now.getTime();
    if (Date.parse(state.expires_at) <= now.getTime() && !leaseLive) {
      const { state: after } = await updateState(deps.store, id, (s) => {
        if (isTerminal(s.status)) return false;
        assertRequestTransition(s.status, 'EXPIRED');
        s.status = 'EXPIRED';
        s.lease = null;
        s.updated_at = now.toISOString();
        s.error = { code: 'REQUEST_EXPIRED', message: 'the request passed its time to live unfinished' };
        return true;
      });
      if (after.status === 'EXPIRED') {
        await deps.store.delete(object.key);
        report.expired.push(id);
      }
      continue;
    }
    // A request waiting out the backoff of its source copy is resumed once that has passed.
    if (!leaseLive && !waitsToCopyInput(state, now)) {
      deps.logger.info({ request_id: id }, 'resuming a request whose driver is gone');
      await deps.resume(id);
      report.resumed.push(id);
    }
  }
  return report;
}
