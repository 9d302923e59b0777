import { NotFoundError } from '../common/errors.js';
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
    try {
      const { value } = await store.getJson<Partial<IndexedRequest>>(info.key);
      rows.push({
        request_id: value.request_id ?? id,
        created_at: value.created_at ?? info.lastModified.toISOString(),
        query: value.query ?? '',
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err; // deleted while listing
    }
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
