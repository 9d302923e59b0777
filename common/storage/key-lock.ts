import { randomBytes } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RetryableError } from '../errors.js';

/**
 * A cross-process mutex made of one file created with O_EXCL (`wx`): creating
 * it is atomic on every local file system, so exactly one process holds it.
 * Holders keep it for a few milliseconds (the rename that publishes a write).
 *
 * A holder that crashed leaves the file behind. It is stale when its process is
 * gone (same host) or it is older than `staleMs`; a stale lock is broken by
 * renaming it away first — a rename succeeds for only one breaker — and then
 * checking the renamed file is the one judged stale.
 */
export interface KeyLockOptions {
  /** A lock older than this is considered abandoned. */
  staleMs?: number;
  /** Give up (RetryableError STORAGE_BUSY) after waiting this long. */
  timeoutMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

const HOST = hostname();

export async function withKeyLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: KeyLockOptions = {},
): Promise<T> {
  const owner: LockOwner = { pid: process.pid, host: HOST, nonce: randomBytes(8).toString('hex') };
  await acquire(lockPath, owner, options.staleMs ?? 30_000, options.timeoutMs ?? 30_000);
  try {
    return await fn();
  } finally {
    await release(lockPath, owner);
  }
}

async function acquire(lockPath: string, owner: LockOwner, staleMs: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const content = JSON.stringify(owner);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockPath, content, { flag: 'wx' });
      return;
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw err;
    }
    await breakIfStale(lockPath, staleMs);
    if (Date.now() > deadline) {
      throw new RetryableError('STORAGE_BUSY', 'timed out waiting for a folder-store key lock', {
        details: { lockPath },
        retryAfterMs: 100,
      });
    }
    // Short, jittered, growing waits: holders keep the lock for milliseconds.
    await sleep(Math.random() * Math.min(2 + attempt, 25));
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<void> {
  const seen = await readLock(lockPath);
  if (!seen || !isStale(seen.owner, seen.ageMs, staleMs)) return;
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return; // someone else broke or released it
    throw err;
  }
  const taken = await readFile(aside, 'utf8').catch(() => '');
  if (taken !== seen.raw) {
    // Between our read and our rename, another breaker replaced the stale lock
    // with a live one: put the live one back (link fails if the path is taken).
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

async function readLock(
  lockPath: string,
): Promise<{ raw: string; owner: LockOwner | undefined; ageMs: number } | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    return { raw, owner: parseOwner(raw), ageMs: Date.now() - info.mtimeMs };
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockOwner>;
    return typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.nonce === 'string'
      ? (v as LockOwner)
      : undefined;
  } catch {
    return undefined; // being written right now, or garbage: judged by age alone
  }
}

function isStale(owner: LockOwner | undefined, ageMs: number, staleMs: number): boolean {
  if (ageMs > staleMs) return true;
  return owner !== undefined && owner.host === HOST && !processAlive(owner.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isCode(err, 'EPERM'); // exists, owned by another user
  }
}

async function release(lockPath: string, owner: LockOwner): Promise<void> {
  // Only remove the lock if it is still ours (a breaker may have judged us stale).
  const current = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (current === JSON.stringify(owner)) await unlink(lockPath).catch(() => undefined);
}

export function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
