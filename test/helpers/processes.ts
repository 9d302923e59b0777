import { readFile } from 'node:fs/promises';

/**
 * False when the process is gone or a zombie (killed, not yet reaped by
 * init); polls for up to a second, since a kill takes a moment to land.
 */
export async function isRunning(pid: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').then(
      (s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3),
      () => 'gone',
    );
    if (state === 'gone' || state === 'Z') return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
