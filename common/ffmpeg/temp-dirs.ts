import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';

/**
 * Per-call temp dirs are removed in a `finally`, which a crash, the OOM killer
 * or SIGKILL skips. So every dir is named after the process that owns it, and
 * a function process removes, when it starts, the dirs whose owner is gone:
 *
 *   clipseek-ffmpeg-<boot>-<pidns>-<pid>-<start>-XXXXXX
 *
 * A pid alone cannot say that: pids are reused, and in a container every
 * function has one of the first few. `start` is the owner's start time
 * (field 22 of /proc/<pid>/stat, clock ticks since boot): a live process with
 * that pid but another start time is a newcomer, not the owner. And pids only
 * mean something within one boot and one pid namespace (hashes of the boot id
 * and of /proc/self/ns/pid): a dir from an earlier boot is dead for sure; one
 * from another namespace (another container sharing the folder) is left to
 * the processes that can see its owner.
 */
export interface TempDirOwner {
  boot: string;
  pidNamespace: string;
  pid: number;
  start: string;
}

const NAME = /^clipseek-ffmpeg-([0-9a-f]{8})-([0-9a-f]{8})-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/** The prefix for mkdtemp (which appends 6 random characters). */
export function tempDirPrefix(owner: TempDirOwner): string {
  return `clipseek-ffmpeg-${owner.boot}-${owner.pidNamespace}-${owner.pid}-${owner.start}-`;
}

/** Who owns a temp dir, from its name; undefined for any other name (including the old unowned ones). */
export function ownerOfTempDir(name: string): TempDirOwner | undefined {
  const m = NAME.exec(name);
  return m ? { boot: m[1]!, pidNamespace: m[2]!, pid: Number(m[3]), start: m[4]! } : undefined;
}

/** This process, read once at start (synchronous: a few small /proc reads). */
export function currentTempDirOwner(): TempDirOwner {
  return {
    boot: shortHash(readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim())),
    pidNamespace: shortHash(readOr(() => readlinkSync('/proc/self/ns/pid'))),
    pid: process.pid,
    start: readOr(() => statFields(readFileSync(`/proc/${process.pid}/stat`, 'utf8'))[19] ?? '') || '0',
  };
}

/** Whether the process that made dirs as `owner` still runs (a zombie counts as gone). */
export async function isOwnerAlive(owner: TempDirOwner): Promise<boolean> {
  const stat = await readFile(`/proc/${owner.pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return owner.start === '0' && signalReaches(owner.pid); // no /proc
  const fields = statFields(stat);
  return fields[0] !== 'Z' && fields[19] === owner.start;
}

export interface SweepOptions {
  /** The folder the runner makes its dirs in. */
  root: string;
  /** This process: whose dirs it may judge, and its own (never swept). */
  self: TempDirOwner;
  logger?: Logger | undefined;
}

/**
 * Removes the temp dirs in `root` whose owner is gone; returns their names.
 * Never fails: a dir it cannot remove is logged and left for the next start.
 */
export async function removeDeadTempDirs(options: SweepOptions): Promise<string[]> {
  const { root, self, logger } = options;
  const names = await readdir(root).catch((err: unknown) => {
    logger?.warn({ err, root }, 'cannot list the temp folder: leftovers not removed');
    return [] as string[];
  });
  const removed: string[] = [];
  for (const name of names) {
    const owner = ownerOfTempDir(name);
    if (!owner) continue;
    if (owner.boot === self.boot) {
      if (owner.pidNamespace !== self.pidNamespace) continue;
      if (owner.pid === self.pid && owner.start === self.start) continue;
      if (await isOwnerAlive(owner)) continue;
    }
    try {
      await rm(join(root, name), { recursive: true, force: true });
      removed.push(name);
    } catch (err) {
      logger?.warn({ err, dir: name }, 'cannot remove a dead process’s temp dir');
    }
  }
  if (removed.length > 0) logger?.info({ root, dirs: removed }, 'removed temp dirs of dead processes');
  return removed;
}

/** The fields of /proc/<pid>/stat after "pid (comm)" (comm may hold spaces and parentheses): [0] = state. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** '' when there is no /proc (then every process has the same boot and namespace, and start '0'). */
function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Without /proc: a signal-0 probe (EPERM: alive, another user's). */
function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
