import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * `<data>/up.json`: written by `clipseek up` once its gateway is ready, removed
 * when it stops. Other verbs read it to find the gateway and the store of the
 * stack running on that data folder, whatever port it picked.
 */
const RunningStack = z.object({
  pid: z.number().int().positive(),
  gateway_url: z.string(),
  storage_url: z.string(),
  started_at: z.string(),
  log_file: z.string().optional(),
});
export type RunningStack = z.infer<typeof RunningStack>;

export const upFile = (dataDir: string) => join(dataDir, 'up.json');

/** The stack `clipseek up` runs on `dataDir`, or undefined (none, or its process is gone). */
export function readRunningStack(dataDir: string): RunningStack | undefined {
  let text: string;
  try {
    text = readFileSync(upFile(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = RunningStack.safeParse(safeJson(text));
  if (!parsed.success || !processAlive(parsed.data.pid)) return undefined;
  return parsed.data;
}

export function writeRunningStack(dataDir: string, stack: RunningStack): void {
  // Temp file + rename: a reader (another verb, a test) never sees it half-written.
  const temp = `${upFile(dataDir)}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(stack, null, 2)}\n`);
  renameSync(temp, upFile(dataDir));
}

/** Removes up.json if it still describes process `pid` (a newer `up` may have replaced it). */
export function removeRunningStack(dataDir: string, pid: number): void {
  try {
    const current = RunningStack.safeParse(safeJson(readFileSync(upFile(dataDir), 'utf8')));
    if (current.success && current.data.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(upFile(dataDir), { force: true });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped: PID 1 in some containers never reaps) is gone too.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
