import { NotFoundError } from '../common/errors.js';
import { indexKeys } from '../common/keys.js';
import type { ObjectStore } from '../common/storage/types.js';

/** `last` means the newest request; anything else is taken as an id. */
export async function resolveRequestId(store: ObjectStore, arg: string): Promise<string> {
  if (arg !== 'last') return arg;
  let newest: { key: string; at: number } | undefined;
  for await (const info of store.listAll(indexKeys.requestsPrefix)) {
    const at = info.lastModified.getTime();
    if (!newest || at > newest.at) newest = { key: info.key, at };
  }
  if (!newest) throw new NotFoundError('REQUEST_NOT_FOUND', `no requests yet in ${store.url}`);
  return indexKeys.idFromKey(newest.key);
}

/** No state.json for the request in the store the CLI reads (a wrong id, or the wrong --storage). */
export function requestNotFound(requestId: string, storeUrl: string, note = ''): NotFoundError {
  return new NotFoundError('REQUEST_NOT_FOUND', `no request ${requestId} in ${storeUrl}${note}`, {
    details: { request_id: requestId, storage_url: storeUrl },
  });
}
