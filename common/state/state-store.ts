import type { RequestState } from '../contracts/state.js';
import { RequestState as RequestStateSchema } from '../contracts/state.js';
import { ConflictError, CorruptDataError, NotFoundError, StateCorruptError } from '../errors.js';
import { requestKeys } from '../keys.js';
import type { ObjectStore } from '../storage/types.js';
import { stateJson } from './state-json.js';

export interface VersionedState {
  state: RequestState;
  etag: string;
}

const JSON_TYPE = { contentType: 'application/json' };

/**
 * Reads and validates state.json. A missing one is REQUEST_NOT_FOUND; one that
 * is not JSON or breaks the schema (truncated, overwritten) is StateCorruptError,
 * so a caller can tell one damaged request from a failing store.
 */
export async function readState(store: ObjectStore, requestId: string): Promise<VersionedState> {
  const key = requestKeys(requestId).state;
  let read: { value: unknown; etag: string };
  try {
    read = await store.getJson(key);
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new NotFoundError('REQUEST_NOT_FOUND', `no request ${requestId}`, { cause: err });
    }
    if (err instanceof CorruptDataError) {
      throw new StateCorruptError(requestId, `state.json of ${requestId} is not valid JSON`, {
        details: { key },
        cause: err,
      });
    }
    throw err;
  }
  const parsed = RequestStateSchema.safeParse(read.value);
  if (!parsed.success) {
    throw new StateCorruptError(requestId, `state.json of ${requestId} breaks its schema`, {
      details: { key, issues: parsed.error.issues.slice(0, 5) },
      cause: parsed.error,
    });
  }
  if (parsed.data.request_id !== requestId) {
    throw new StateCorruptError(requestId, `state.json of ${requestId} names another request`, {
      details: { key, found: parsed.data.request_id },
    });
  }
  return { state: parsed.data, etag: read.etag };
}

/** Creates state.json; ConflictError when the request already exists. */
export async function createState(store: ObjectStore, state: RequestState): Promise<VersionedState> {
  const { etag } = await store.putIfAbsent(requestKeys(state.request_id).state, stateJson(state), JSON_TYPE);
  return { state, etag };
}

/**
 * Compare-and-swap write: ConflictError when someone else wrote since `etag`.
 * `toJson` lets a driver that writes often reuse the JSON of unchanged tasks (StateJsonWriter).
 */
export async function writeState(
  store: ObjectStore,
  state: RequestState,
  etag: string,
  toJson: (state: RequestState) => string = stateJson,
): Promise<VersionedState> {
  const written = await store.putIfMatch(requestKeys(state.request_id).state, toJson(state), etag, JSON_TYPE);
  return { state, etag: written.etag };
}

/**
 * Read-modify-write with compare-and-swap, re-reading and re-applying `mutate`
 * on conflict. `mutate` returns false to write nothing.
 */
export async function updateState(
  store: ObjectStore,
  requestId: string,
  mutate: (state: RequestState) => boolean | undefined,
  attempts = 8,
): Promise<VersionedState> {
  for (let attempt = 1; ; attempt++) {
    const current = await readState(store, requestId);
    if (mutate(current.state) === false) return current;
    try {
      return await writeState(store, current.state, current.etag);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= attempts) throw err;
    }
  }
}
