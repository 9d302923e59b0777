import type { SubmitRequest } from './contracts/request.js';
import type { RequestState } from './contracts/state.js';
import { ClipseekError, InputError, NotFoundError } from './errors.js';
import { inputDigest } from './manifests.js';
import { readState } from './state/state-store.js';
import type { ObjectStore } from './storage/types.js';

/** What a request's id was taken from (a mismatch names it). */
export type IdSource = 'request_id' | 'Idempotency-Key' | 'X-Call-Id';

/**
 * sha256 of the canonical JSON of everything that decides a request's answer.
 * Not the id nor the key: they name the request, they are not part of it.
 */
export function requestDigest(body: SubmitRequest): string {
  return inputDigest({
    video_uri: body.video_uri,
    query: body.query,
    profile: body.profile,
    overrides: body.overrides,
    callback_url: body.callback_url,
  });
}

/**
 * Whether a request already exists under `id` ('new' when not). One that
 * exists must have been submitted with the same digest: otherwise the id (or
 * the key it came from) was used for another request, and answering with that
 * request's result would answer a question nobody asked — 422, nothing runs.
 */
export async function checkRepeat(
  store: ObjectStore,
  id: string,
  digest: string,
  by: IdSource,
  tenant?: string,
): Promise<'new' | 'same'> {
  let state: RequestState;
  try {
    ({ state } = await readState(store, id));
  } catch (err) {
    if (err instanceof NotFoundError) return 'new';
    throw err;
  }
  // Ids are one space for the deployment: another tenant's request under a chosen
  // request_id is neither answered nor replaced (README: Tenancy).
  if (tenant !== undefined && state.namespace !== tenant) {
    throw new ClipseekError('REQUEST_ID_TAKEN', `this ${by} is taken: choose another`, {
      status: 409,
      details: { by },
    });
  }
  const stored = state.request.digest;
  if (stored !== undefined && stored !== digest) {
    // The id stays out of the answer: one derived from a key is not the caller's to know.
    throw new InputError(
      'IDEMPOTENCY_KEY_MISMATCH',
      `this ${by} was already used for a request with another video_uri, query, profile, overrides or callback_url`,
      { details: { by } },
    );
  }
  return 'same';
}
