import type { ErrorInfo } from '../../common/contracts/common.js';
import type { FinalResult } from '../../common/contracts/final.js';
import type { FinalStatus } from '../../common/contracts/request.js';
import type { RequestState } from '../../common/contracts/state.js';
import { ConflictError } from '../../common/errors.js';
import { requestKeys } from '../../common/keys.js';
import { finishRequest, ownsLease } from '../../common/state/lifecycle.js';
import { updateState, type VersionedState, writeState } from '../../common/state/state-store.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { finalFrom, readEvidence } from './assemble.js';
import { writeVideoIndex } from './video-index.js';

export type FinishResult =
  /** This driver ended the request: `state` as stored, `result` as written to final.json. */
  | { outcome: 'finished'; state: RequestState; result: FinalResult }
  /** Someone else (a cancel, the sweeper, another driver) ended or took the request first. */
  | { outcome: 'overtaken'; state: RequestState };

const JSON_TYPE = { contentType: 'application/json' };

/**
 * The end of a request, written by the driver that decided it: the request is
 * finished (lifecycle.ts), its evidence is read from the manifests once, the
 * video index document (when it succeeded with analysed clips, in the request's namespace)
 * and final.json are made from it and written, then the final state.json with
 * compare-and-swap. final.json goes first, so a final status always has its
 * result beside it; the index document before it, so every finished analysis
 * is searchable.
 */
export async function writeFinish(
  store: ObjectStore,
  driven: VersionedState,
  finish: { status: FinalStatus; error: ErrorInfo | null },
  owner: string,
  at: Date,
): Promise<FinishResult> {
  // finishRequest changes top-level fields only: a shallow copy keeps the driver's
  // state as written (a deep copy of 40 000 tasks was the peak of a large request's memory).
  const finished = { ...driven.state };
  finishRequest(finished, finish.status, finish.error, at.toISOString());
  const evidence = await readEvidence(store, finished);
  const result = finalFrom(finished, evidence, at);
  await writeVideoIndex(store, finished, evidence, at);
  if (result.coverage) finished.coverage = result.coverage;
  await store.put(requestKeys(finished.request_id).final, JSON.stringify(result, null, 2), JSON_TYPE);
  const state = await writeFinalState(store, driven.etag, finished, finish.status, owner);
  if (state.status !== finished.status) return { outcome: 'overtaken', state };
  return { outcome: 'finished', state, result };
}

/**
 * Nobody else wrote since the driver's last write (the usual case): its state,
 * finished, goes straight in. Otherwise (a cancel, the sweeper) the stored
 * state is re-read and finished only if it is still ours and not final.
 */
async function writeFinalState(
  store: ObjectStore,
  etag: string,
  finished: RequestState,
  status: FinalStatus,
  owner: string,
): Promise<RequestState> {
  try {
    return (await writeState(store, finished, etag)).state;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
  const { state } = await updateState(store, finished.request_id, (s) => {
    if (!ownsLease(s, owner)) return false;
    finishRequest(s, status, finished.error, finished.updated_at);
    s.stages = finished.stages;
    if (finished.coverage) s.coverage = finished.coverage;
    return true;
  });
  return state;
}
