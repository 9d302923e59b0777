import type { ErrorInfo } from '../../common/contracts/common.js';
import type { RequestState, TaskState } from '../../common/contracts/state.js';
import { ClipseekError, RetryableError, toClipseekError } from '../../common/errors.js';
import { requestKeys } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import {
  finishRequest,
  isTerminal,
  leaseFor,
  leaseHeldByOther,
  ownsLease,
  renewLease,
  waitsToCopyInput,
} from '../../common/state/lifecycle.js';
import { updateState } from '../../common/state/state-store.js';
import { assertTaskTransition } from '../../common/state/transitions.js';
import type { ObjectStore } from '../../common/storage/types.js';
import type { OrchestratorConfig } from './config.js';
import { exponentialBackoff } from './decide.js';
import { copySource, inputFileName, parseSource } from './source.js';

/**
 * The first step of every request: copying its source into input/. One
 * attempt per call, recorded in state.json's `input_copy` like a task's
 * (attempts, last error, retry_at). A retryable failure releases the lease and
 * waits out a backoff (the sweeper resumes the request after it); after
 * `sourceAttempts`, or on a non-retryable failure, the request is FAILED with
 * the cause. The lease is renewed while the copy runs, and the copy stops
 * when the lease is lost.
 */
export interface InputCopyDeps {
  store: ObjectStore;
  logger: Logger;
  now: () => Date;
  random: () => number;
  config: OrchestratorConfig;
  /** The bucket an s3:// source may name. */
  storeBucket: string | undefined;
  /** Process shutdown: the copy stops and nothing more is written. */
  stopSignal?: AbortSignal;
}

export type InputCopyResult =
  /** The input is in place, or the request is finished: nothing (more) to copy. */
  | { kind: 'done' }
  /** This call failed the request; `error` is what to answer. */
  | { kind: 'failed'; state: RequestState; error: ClipseekError }
  /** Not now: waiting out a backoff, someone else holds the lease, or the process is stopping. */
  | { kind: 'waiting'; state: RequestState; note: string };

const TASK = 'input-copy';
const BUSY = 'another orchestrator is driving it';

export async function ensureInputCopy(id: string, deps: InputCopyDeps): Promise<InputCopyResult> {
  const { store, config, now } = deps;
  let verdict: Verdict = 'done';
  const claimed = await updateState(store, id, (s) => {
    verdict = claimCopy(s, config, now());
    return verdict === 'copy' || verdict === 'exhausted';
  });
  const state = claimed.state;
  switch (verdict as Verdict) {
    case 'done':
      return { kind: 'done' };
    case 'busy':
      return { kind: 'waiting', state, note: BUSY };
    case 'waiting':
      return { kind: 'waiting', state, note: waitingNote(state) };
    case 'exhausted':
      return { kind: 'failed', state, error: asError(state.error!) };
    case 'copy':
      break;
  }
  const attempt = state.input_copy!;
  let key: string;
  try {
    const source = await parseSource(state.request.video_uri, deps.storeBucket, config.sourcePolicy);
    key = requestKeys(id).input(inputFileName(source));
    const held = await underLease(id, deps, (signal) =>
      copySource(store, source, key, {
        policy: config.sourcePolicy,
        maxBytes: config.maxSourceBytes,
        timeoutMs: config.sourceTimeoutMs,
        signal,
      }),
    );
    if (held !== 'held') {
      return { kind: 'waiting', state, note: held === 'lost' ? BUSY : 'the orchestrator is stopping' };
    }
  } catch (err) {
    return recordFailure(id, deps, toClipseekError(err));
  }
  const at = now();
  await updateState(store, id, (s) => {
    if (s.input_key) return false;
    s.input_key = key;
    s.input_copy = {
      status: 'SUCCEEDED',
      attempts: attempt.attempts,
      ...(attempt.started_at ? { started_at: attempt.started_at } : {}),
      finished_at: at.toISOString(),
      duration_ms: Math.max(0, at.getTime() - Date.parse(attempt.started_at ?? at.toISOString())),
    };
    return true;
  });
  return { kind: 'done' };
}

type Verdict = 'done' | 'busy' | 'waiting' | 'exhausted' | 'copy';

/**
 * Decides, on the stored state, whether this call copies now; when it does,
 * takes the lease and starts an attempt (in place; the caller writes with
 * compare-and-swap, so of two callers exactly one starts it).
 */
export function claimCopy(
  s: RequestState,
  opts: Pick<OrchestratorConfig, 'owner' | 'leaseMs' | 'sourceAttempts'>,
  now: Date,
): Verdict {
  if (s.input_key || isTerminal(s.status)) return 'done';
  if (leaseHeldByOther(s, opts.owner, now)) return 'busy';
  if (waitsToCopyInput(s, now)) return 'waiting';
  const previous: TaskState = s.input_copy ?? { status: 'PENDING', attempts: 0 };
  if (previous.attempts >= opts.sourceAttempts) {
    // Every attempt started and none ended it: the orchestrator died during each.
    const error = previous.error ?? {
      code: 'SOURCE_COPY_INTERRUPTED',
      message: `copying the source was interrupted ${previous.attempts} time(s)`,
    };
    s.input_copy = { ...previous, status: 'FAILED', finished_at: now.toISOString() };
    finishRequest(s, 'FAILED', gaveUp(error, previous.attempts), now.toISOString());
    return 'exhausted';
  }
  // An attempt left RUNNING ended with the driver that made it (the lease is free): it counts
  // as one, and the next starts. A FAILED one goes back to PENDING first.
  if (previous.status === 'FAILED') assertTaskTransition(TASK, previous.status, 'PENDING');
  const { retry_at: _r, finished_at: _f, ...rest } = previous;
  s.input_copy = {
    ...rest,
    status: 'RUNNING',
    attempts: previous.attempts + 1,
    started_at: now.toISOString(),
  };
  s.lease = leaseFor(opts.owner, now, opts.leaseMs);
  s.updated_at = now.toISOString();
  return 'copy';
}

/** Records a failed attempt: waits out a backoff when it may be retried, else fails the request. */
async function recordFailure(id: string, deps: InputCopyDeps, e: ClipseekError): Promise<InputCopyResult> {
  const { store, config, now, random } = deps;
  const info: ErrorInfo = { code: e.code, message: e.message, details: e.details, status: e.status };
  let retry = false;
  const { state } = await updateState(store, id, (s) => {
    if (isTerminal(s.status) || s.input_key) return false;
    const copy: TaskState = s.input_copy ?? { status: 'RUNNING', attempts: 1 };
    const at = now();
    copy.error = { ...info, retryable: e.retryable };
    copy.finished_at = at.toISOString();
    retry = e.retryable && copy.attempts < config.sourceAttempts;
    if (retry) {
      assertTaskTransition(TASK, copy.status, 'PENDING');
      copy.status = 'PENDING';
      const retryAfterMs = e instanceof RetryableError ? e.retryAfterMs : undefined;
      const { sourceBackoffMs: base, sourceBackoffMaxMs: max } = config;
      const waitMs = exponentialBackoff(base, max, copy.attempts, random(), retryAfterMs);
      copy.retry_at = new Date(at.getTime() + waitMs).toISOString();
      // Nobody drives it while it waits: the sweeper resumes it once retry_at has passed.
      if (s.lease?.owner === config.owner) s.lease = null;
      s.updated_at = at.toISOString();
    } else {
      assertTaskTransition(TASK, copy.status, 'FAILED');
      copy.status = 'FAILED';
      finishRequest(s, 'FAILED', e.retryable ? gaveUp(info, copy.attempts) : info, at.toISOString());
    }
    s.input_copy = copy;
    return true;
  });
  if (retry) {
    deps.logger.warn({ request_id: id, err: e, retry_at: state.input_copy?.retry_at }, 'source copy failed');
    return { kind: 'waiting', state, note: waitingNote(state) };
  }
  if (state.status !== 'FAILED') return { kind: 'done' }; // finished by someone else meanwhile
  return { kind: 'failed', state, error: e.retryable ? asError(state.error!, e) : e };
}

/** The cause a request fails with once a retryable failure ran out of attempts. */
function gaveUp(error: ErrorInfo, attempts: number): ErrorInfo {
  const { retryable: _, ...cause } = error;
  return {
    ...cause,
    message: `${cause.message} (gave up after ${attempts} attempt(s))`,
    details: { ...cause.details, attempts },
  };
}

/** The answer for a request failed by its source: 502 for a passing cause that ran out of attempts, like a stage. */
function asError(info: ErrorInfo, cause?: unknown): ClipseekError {
  const status = info.status && info.status >= 400 && info.status < 500 ? info.status : 502;
  return new ClipseekError(info.code, info.message, { status, details: info.details ?? {}, cause });
}

function waitingNote(state: RequestState): string {
  const copy = state.input_copy;
  const why = copy?.error ? ` after ${copy.error.code}: ${copy.error.message}` : '';
  return `waiting to copy the source again at ${copy?.retry_at} (attempt ${copy?.attempts ?? 0} failed${why})`;
}

/**
 * Runs `work` while renewing the request's lease (every third of it, as the
 * driver does). When the lease is lost (another owner took over, or the
 * request finished) `work`'s signal aborts; so it does on process shutdown.
 */
async function underLease(
  id: string,
  deps: InputCopyDeps,
  work: (signal: AbortSignal) => Promise<void>,
): Promise<'held' | 'lost' | 'stopping'> {
  const { store, config, now, logger, stopSignal } = deps;
  const lost = new AbortController();
  const signal = stopSignal ? AbortSignal.any([lost.signal, stopSignal]) : lost.signal;
  let renewing: Promise<void> | undefined;
  const renew = async () => {
    const { state } = await updateState(store, id, (s) => renewLease(s, config.owner, now(), config.leaseMs));
    if (!ownsLease(state, config.owner)) lost.abort();
  };
  const timer = setInterval(() => {
    if (renewing || signal.aborted) return;
    renewing = renew()
      .catch((err: unknown) => logger.warn({ request_id: id, err }, 'lease renewal failed; will retry'))
      .finally(() => {
        renewing = undefined;
      });
  }, config.leaseMs / 3);
  try {
    await work(signal);
    return 'held';
  } catch (err) {
    if (lost.signal.aborted) return 'lost';
    if (stopSignal?.aborted) return 'stopping';
    throw err;
  } finally {
    clearInterval(timer);
    await renewing;
  }
}
