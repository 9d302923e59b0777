/** CPU seconds used by a running stack: every function process (with its reaped ffmpeg/pocketsphinx
 * children) plus this process, which hosts the gateway. */
import type { Stack } from '../../test/helpers/stack-harness.js';
import { type CpuTimes, cpuOf } from './proc.js';

/** The name this process goes by: the gateway, and the reaped remains of function processes that died. */
export const GATEWAY_PROCESS = 'gateway (bench process)';

export function stackCpu(stack: Stack): number {
  let sum = 0;
  for (const cpu of stackCpuByProcess(stack).values()) sum += cpu.self + cpu.children;
  return sum;
}

/**
 * CPU of each function process and of this one. A function process that died
 * (killed, restarted) moves its whole CPU into this process's children once reaped.
 */
export function stackCpuByProcess(stack: Stack): Map<string, CpuTimes> {
  const cpu = new Map<string, CpuTimes>([[GATEWAY_PROCESS, cpuOf('self')]]);
  for (const [name, fn] of stack.gateway.functions) {
    if (fn.pid === undefined) continue;
    try {
      cpu.set(name, cpuOf(fn.pid));
    } catch {
      // the process is gone (restarting): its CPU time is lost to the count
    }
  }
  return cpu;
}

/** Seconds of CPU per process between two readings, for the processes in both. */
export function cpuDelta(
  before: Map<string, CpuTimes>,
  after: Map<string, CpuTimes>,
): Map<string, { self: number; children: number }> {
  const delta = new Map<string, { self: number; children: number }>();
  for (const [name, end] of after) {
    const start = before.get(name);
    if (start) delta.set(name, { self: end.self - start.self, children: end.children - start.children });
  }
  return delta;
}
