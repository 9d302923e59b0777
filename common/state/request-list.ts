/**
 * The requests, page by page, newest first: one listing for `clipseek ls`
 * and the orchestrator's `{"list": …}` call.
 *
 * The order is total and fixed by what each request's marker
 * (index/requests/{id}.json) says: created_at descending, then request id
 * descending. A cursor names the last request of a page by those two values,
 * so the next page starts right after it whatever happened meanwhile: a
 * request submitted since sorts before the cursor (it is newer) and never
 * pushes a listed one onto the next page, and a deleted one takes nothing
 * with it. Every call reads the markers (one small object per request); the
 * state of only those requests it shows or, with a status filter, checks.
 */
import { DEFAULT_NAMESPACE } from '../contracts/common.js';
import { FinalResult } from '../contracts/final.js';
import {
  LIST_LIMIT,
  type ListedRequest,
  ListQuery,
  type RequestPage,
  RequestStatus,
} from '../contracts/request.js';
import type { RequestState } from '../contracts/state.js';
import { CorruptDataError, InputError, NotFoundError, StateCorruptError } from '../errors.js';
import { indexKeys, requestKeys } from '../keys.js';
import type { ObjectStore } from '../storage/types.js';
import { readState } from './state-store.js';

export { LIST_LIMIT };

/** A page's query, checked: the stable error codes a caller matches on. */
export interface CheckedListQuery {
  limit: number;
  after?: Position | undefined;
  status?: RequestStatus | undefined;
}

export interface ListOptions {
  /** Only the requests of this namespace (a tenant's listing); undefined: every request. */
  namespace?: string | undefined;
  /**
   * With a status filter, how many requests one call checks at most: past it,
   * the page ends early (fewer rows, and a cursor to go on from), so a rare
   * status costs bounded reads per call, not one per request in the bucket.
   */
  scanLimit?: number;
}

const DEFAULT_SCAN_LIMIT = 1000;
/** Markers and states read at once. */
const PARALLEL = 8;

/** Where a request sorts: newest first, ties by id. */
interface Position {
  created_at: string;
  request_id: string;
}

export interface Marker extends Position {
  query: string;
  /** The request's namespace; a marker from before namespaces is in the default one. */
  namespace?: string | undefined;
}

const CODES = { limit: 'INVALID_LIMIT', cursor: 'INVALID_CURSOR', status: 'INVALID_STATUS' } as const;

/** The marker the listing reads, written once per request when it is accepted. */
export async function putRequestMarker(store: ObjectStore, marker: Marker): Promise<void> {
  const { request_id, created_at, query, namespace } = marker;
  await store.put(
    indexKeys.request(request_id),
    JSON.stringify({ request_id, created_at, query, namespace }),
    {
      contentType: 'application/json',
    },
  );
}

/** Parses a list query (a `list` call's body, or the CLI's flags); each bad field has its own code. */
export function checkListQuery(raw: unknown): CheckedListQuery {
  const parsed = ListQuery.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path[0];
    const code = typeof field === 'string' && field in CODES ? CODES[field as keyof typeof CODES] : undefined;
    if (code === 'INVALID_LIMIT') {
      throw new InputError(code, `limit: a whole number from 1 to ${LIST_LIMIT.max}`, {
        details: { max: LIST_LIMIT.max },
      });
    }
    if (code === 'INVALID_STATUS') {
      throw new InputError(code, `status: one of ${RequestStatus.options.join(', ')}`);
    }
    if (code === 'INVALID_CURSOR') throw badCursor();
    throw new InputError('INVALID_REQUEST', 'the list query is not valid', {
      details: { issues: parsed.error.issues },
    });
  }
  const { limit, cursor, status } = parsed.data;
  return { limit, after: cursor === undefined ? undefined : decodeCursor(cursor), status };
}

/** One page of requests, newest first, after `query.after`, of `query.status` if given. */
export async function listRequests(
  store: ObjectStore,
  query: CheckedListQuery,
  options: ListOptions = {},
): Promise<RequestPage> {
  // Without a filter every request checked is a row: the limit bounds the reads.
  const scanLimit = query.status ? Math.max(1, options.scanLimit ?? DEFAULT_SCAN_LIMIT) : query.limit;
  const after = query.after;
  const ns = options.namespace;
  const markers = (await readMarkers(store))
    .filter((m) => ns === undefined || (m.namespace ?? DEFAULT_NAMESPACE) === ns)
    .sort(newestFirst);
  let start = 0;
  if (after) while (start < markers.length && newestFirst(markers[start]!, after) <= 0) start++;

  const rows: ListedRequest[] = [];
  let next = start; // the first marker not yet looked at
  while (next < markers.length && rows.length < query.limit && next - start < scanLimit) {
    // Without a filter exactly what the page needs; with one, a batch at a time.
    const want = query.status ? PARALLEL : Math.min(PARALLEL, query.limit - rows.length);
    const batch = markers.slice(next, Math.min(next + want, start + scanLimit));
    const described = await Promise.all(batch.map((m) => describe(store, m)));
    for (const row of described) {
      next++;
      if (!query.status || row.status === query.status) rows.push(row);
      if (rows.length === query.limit) break;
    }
  }
  const remaining = markers.length - next;
  const last = markers[next - 1];
  return {
    requests: rows,
    next_cursor: remaining > 0 && last ? encodeCursor(last) : null,
    remaining,
  };
}

function newestFirst(a: Position, b: Position): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  if (a.request_id === b.request_id) return 0;
  return a.request_id < b.request_id ? 1 : -1;
}

/** Every marker; a damaged one still names its request, listed with what the listing knows. */
async function readMarkers(store: ObjectStore): Promise<Marker[]> {
  const infos = [];
  for await (const info of store.listAll(indexKeys.requestsPrefix)) infos.push(info);
  const markers: Marker[] = [];
  for (let i = 0; i < infos.length; i += PARALLEL) {
    const read = await Promise.all(
      infos.slice(i, i + PARALLEL).map(async (info): Promise<Marker | undefined> => {
        let value: Partial<Marker> = {};
        try {
          const json = (await store.getJson<unknown>(info.key)).value;
          if (json && typeof json === 'object') value = json as Partial<Marker>;
        } catch (err) {
          if (err instanceof NotFoundError) return undefined; // deleted while listing
          if (!(err instanceof CorruptDataError)) throw err;
        }
        return {
          request_id: typeof value.request_id === 'string' ? value.request_id : indexKeys.idFromKey(info.key),
          created_at:
            typeof value.created_at === 'string' ? value.created_at : info.lastModified.toISOString(),
          query: typeof value.query === 'string' ? value.query : '',
          namespace: typeof value.namespace === 'string' ? value.namespace : undefined,
        };
      }),
    );
    for (const m of read) if (m) markers.push(m);
  }
  return markers;
}

/** A row: one unreadable request shows as CORRUPT beside the rest, never ends the listing. */
async function describe(store: ObjectStore, marker: Marker): Promise<ListedRequest> {
  const row = { request_id: marker.request_id, created_at: marker.created_at, query: marker.query };
  let state: RequestState | undefined;
  try {
    state = (await readState(store, marker.request_id)).state;
  } catch (err) {
    if (err instanceof StateCorruptError) {
      return { ...row, status: 'CORRUPT', source: null, clips: null, error: err.code };
    }
    if (!(err instanceof NotFoundError)) throw err;
  }
  let matches: number | undefined;
  if (state?.status === 'SUCCEEDED') {
    try {
      const { value } = await store.getJson(requestKeys(marker.request_id).final);
      matches = FinalResult.safeParse(value).data?.matches.length;
    } catch (err) {
      if (!(err instanceof NotFoundError) && !(err instanceof CorruptDataError)) throw err;
    }
  }
  return {
    ...row,
    status: state?.status ?? 'UNKNOWN',
    source: state?.request.video_uri ?? null,
    clips: state?.clips ?? null,
    ...(matches === undefined ? {} : { matches }),
  };
}

/** Opaque to callers: base64url of the last row's position. */
function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.created_at, p.request_id])).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    typeof value[0] !== 'string' ||
    typeof value[1] !== 'string'
  ) {
    throw badCursor();
  }
  return { created_at: value[0], request_id: value[1] };
}

function badCursor(): InputError {
  return new InputError('INVALID_CURSOR', 'cursor: pass a next_cursor exactly as a listing returned it');
}
