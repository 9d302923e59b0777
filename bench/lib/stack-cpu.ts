/** CPU seconds used by a running stack: every function process (with its reaped ffmpeg/pocketsphinx
 * children) plus this process, which hosts the gateway. */
import type { Stack } from '../../test/helpers/stack-harness.js';
import { totalCpu } from './proc.js';

export function stackCpu(stack: Stack): number {
  let sum = totalCpu('self');
  for (const fn of stack.gateway.functions.values()) {
    if (fn.pid === undefined) continue;
    try {
      sum += totalCpu(fn.pid);
    } catch {
      // the process is gone (restarting): its CPU time is lost to the count
    }
  }
  return sum;
}
