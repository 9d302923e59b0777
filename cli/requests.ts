import { CorruptDataError, NotFoundError } from '../common/errors.js';
import { indexKeys } from '../common/keys.js';
import type { ObjectStore } from '../common/storage/types.js';

export interface IndexedRequest {
  request_id: string;
  created_at: string;
  query: string;
}

/** Every request the orchestrator recorded in index/requests/, newest first. */
export async function listRequests(store: ObjectStore): Promise<IndexedRequest[]> {
  const rows: IndexedRequest[] = [];
  for await (const info of store.listAll(indexKeys.requestsPrefix)) {
    const id = indexKeys.idFromKey(info.key);
    let value: Partial<IndexedRequest> = {};
    try {
      const read = (await store.getJson<unknown>(info.key)).value;
      if (read && typeof read === 'object') value = read as Partial<IndexedRequest>;
    } catch (err) {
      if (err instanceof NotFoundError) continue; // deleted while listing
      // A damaged marker still names its request: list it with what the listing knows.
      if (!(err instanceof CorruptDataError)) throw err;
    }
    rows.push({
      request_id: typeof value.request_id === 'string' ? value.request_id : id,
      created_at: typeof value.created_at === 'string' ? value.created_at : info.lastModified.toISOString(),
      query: typeof value.query === 'string' ? value.query : '',
    });
  }
  return rows.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

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
