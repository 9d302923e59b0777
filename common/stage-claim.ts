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

export type ClaimOutcome<T> = { kind: 'owned'; release: () => Promise<void> } | { kind: 'done'; value: T };

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
      const release = holdClaim(opts, etag, body);
      // The previous holder may have finished just before we got the claim.
      const value = await finished();
      if (value === undefined) return { kind: 'owned', release };
      await release();
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

/** Renews the claim every ttl/3 until released; returns the release function. */
function holdClaim(opts: ClaimOptions, firstEtag: string, body: () => string): () => Promise<void> {
  let etag = firstEtag;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = opts.store
      .putIfMatch(opts.key, body(), etag, { contentType: 'application/json' })
      .then((written) => {
        etag = written.etag;
      })
      .catch((err: unknown) => opts.logger.warn({ claim: opts.key, err }, 'could not renew the claim'));
  }, opts.ttlMs / 3);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await renewing;
    await opts.store.delete(opts.key).catch(() => undefined);
  };
}
