import { randomBytes } from 'node:crypto';
import { CancelledError, ConflictError, NotFoundError } from './errors.js';
import type { Logger } from './logger.js';
import type { ObjectStore } from './storage/types.js';

/**
 * Single flight for one stage task across processes: the first call writes a
 * claim object (create-if-absent) and renews it while it works; a second call
 * for the same task (a resumed orchestrator re-invoking work that is still
 * running for a caller that died) waits for the first one's result instead of
 * doing the work again. A claim not renewed within its TTL belonged to a dead
 * process and is taken over.
 */
export interface ClaimOptions {
  store: ObjectStore;
  key: string;
  ttlMs: number;
  now: () => Date;
  signal: AbortSignal;
  logger: Logger;
  pollMs?: number;
}

interface Claim {
  owner: string;
  expires_at: string;
}

/** A claim this call holds: renewed until released. */
export interface HeldClaim {
  /**
   * Whether the claim is still this call's: false once another call took it
   * over (this one was stopped or slow past the TTL) or it is gone.
   */
  held(): Promise<boolean>;
  /** Stops renewing and deletes the claim (unless it was taken over: then it is the new owner's). */
  release(): Promise<void>;
}

export type ClaimOutcome<T> = ({ kind: 'owned' } & HeldClaim) | { kind: 'done'; value: T };

const OWNER_PREFIX = `${process.pid}-${randomBytes(4).toString('hex')}`;
let claims = 0;

export async function claimOrWait<T>(
  opts: ClaimOptions,
  finished: () => Promise<T | undefined>,
): Promise<ClaimOutcome<T>> {
  const owner = `${OWNER_PREFIX}-${++claims}`;
  const body = () =>
    JSON.stringify({
      owner,
      expires_at: new Date(opts.now().getTime() + opts.ttlMs).toISOString(),
    } satisfies Claim);
  let waited = false;
  for (;;) {
    if (opts.signal.aborted)
      throw new CancelledError('cancelled while waiting for another call of this task');
    let etag: string | undefined;
    try {
      etag = (await opts.store.putIfAbsent(opts.key, body(), { contentType: 'application/json' })).etag;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      etag = await takeOverIfExpired(opts, body);
    }
    if (etag !== undefined) {
      const claim = holdClaim(opts, owner, etag, body);
      // The previous holder may have finished just before we got the claim.
      const value = await finished();
      if (value === undefined) return { kind: 'owned', ...claim };
      await claim.release();
      return { kind: 'done', value };
    }
    if (!waited)
      opts.logger.info({ claim: opts.key }, 'another call is running this task; waiting for its result');
    waited = true;
    const value = await finished();
    if (value !== undefined) return { kind: 'done', value };
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}

async function takeOverIfExpired(opts: ClaimOptions, body: () => string): Promise<string | undefined> {
  let current: { value: Claim; etag: string };
  try {
    current = await opts.store.getJson<Claim>(opts.key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined; // released meanwhile: try again
    throw err;
  }
  if (Date.parse(current.value.expires_at) > opts.now().getTime()) return undefined;
  try {
    opts.logger.warn({ claim: opts.key, owner: current.value.owner }, 'taking over an expired claim');
    return (await opts.store.putIfMatch(opts.key, body(), current.etag, { contentType: 'application/json' }))
      .etag;
  } catch (err) {
    if (err instanceof ConflictError) return undefined;
    throw err;
  }
}

/**
 * Renews the claim every ttl/3 until released. Nobody may take a claim over
 * before its TTL has passed since our last write, so within half of that
 * (a margin for clock skew between hosts) it is known to be ours without a
 * read; past it (the process was stopped, or renewals failed) it is read.
 */
function holdClaim(opts: ClaimOptions, owner: string, firstEtag: string, body: () => string): HeldClaim {
  let etag = firstEtag;
  let writtenAt = performance.now();
  let lost = false;
  let renewing: Promise<void> | undefined;
  const timer = setInterval(() => {
    // One renewal at a time: a second one sent with the same ETag while the first is
    // still on its way (a slow store, an event loop blocked by the stage's work) would
    // conflict with our own write and take the claim for lost.
    if (renewing) return;
    const started = performance.now();
    renewing = opts.store
      .putIfMatch(opts.key, body(), etag, { contentType: 'application/json' })
      .then((written) => {
        etag = written.etag;
        writtenAt = started;
      })
      .catch((err: unknown) => {
        if (err instanceof ConflictError) lost = true;
        opts.logger.warn({ claim: opts.key, err }, 'could not renew the claim');
      })
      .finally(() => {
        renewing = undefined;
      });
  }, opts.ttlMs / 3);
  timer.unref();
  return {
    async held() {
      if (lost) return false;
      if (performance.now() - writtenAt < opts.ttlMs / 2) return true;
      try {
        lost = (await opts.store.getJson<Claim>(opts.key)).value.owner !== owner;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        lost = true;
      }
      return !lost;
    },
    async release() {
      clearInterval(timer);
      await renewing;
      if (!lost) await opts.store.delete(opts.key).catch(() => undefined);
    },
  };
}
