import type { DeleteReport } from '../contracts/retention.js';
import { ClipseekError, NotFoundError, StateCorruptError } from '../errors.js';
import { indexKeys, requestKeys } from '../keys.js';
import { isTerminal } from '../state/lifecycle.js';
import { readState } from '../state/state-store.js';
import type { ObjectStore } from '../storage/types.js';

export interface RemoveOptions {
  /** Set for a tenant's call: a request of another namespace is not found (README: Tenancy). */
  namespace?: string | undefined;
}

/**
 * Deletes a finished request's own objects — requests/<id>/ and its index
 * markers — and never a shared result or video index document: what other
 * requests or the index still use stays, and gc decides about the rest once
 * this request no longer names it. A request that has not finished is refused
 * (cancel it first). One whose state.json is corrupt is deleted only when no
 * driver can hold it (it is off index/active: finished, or quarantined by the
 * sweeper), and never for a tenant, whose namespace it cannot prove.
 * state.json goes last, so an rm cut short can be run again.
 */
export async function removeRequest(
  store: ObjectStore,
  id: string,
  options: RemoveOptions = {},
): Promise<DeleteReport> {
  try {
    const { state } = await readState(store, id);
    if (options.namespace !== undefined && state.namespace !== options.namespace)
      throw new NotFoundError('REQUEST_NOT_FOUND', `no request ${id}`);
    if (!isTerminal(state.status)) {
      throw new ClipseekError('REQUEST_RUNNING', `request ${id} is ${state.status}: cancel it first`, {
        status: 409,
        details: { request_id: id, status: state.status },
      });
    }
  } catch (err) {
    if (!(err instanceof StateCorruptError)) throw err;
    if (options.namespace !== undefined) throw new NotFoundError('REQUEST_NOT_FOUND', `no request ${id}`);
    if (await store.head(indexKeys.active(id))) {
      throw new ClipseekError(
        'REQUEST_RUNNING',
        `request ${id} has a corrupt state.json and may still be driven: the sweeper quarantines it first`,
        { status: 409, details: { request_id: id, status: 'CORRUPT' }, cause: err },
      );
    }
  }
  const keys = requestKeys(id);
  const report: DeleteReport = { request_id: id, deleted: { objects: 0, bytes: 0 } };
  const own = [];
  for await (const o of store.listAll(keys.prefix)) if (o.key !== keys.state) own.push(o);
  const markers = [
    indexKeys.request(id),
    indexKeys.active(id),
    indexKeys.callback(id),
    indexKeys.quarantine(id),
  ];
  for (const key of markers) {
    const info = await store.head(key);
    if (info) own.push(info);
  }
  const state = await store.head(keys.state);
  for (const o of [...own, ...(state ? [state] : [])]) {
    await store.delete(o.key);
    report.deleted.objects++;
    report.deleted.bytes += o.size;
  }
  return report;
}
