/**
 * CPU time and memory of processes, from /proc (Linux): utime + stime of the
 * process itself, plus cutime + cstime of the children it has waited for
 * (ffmpeg, pocketsphinx…). Clock ticks are 1/100 s on Linux.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100;

export interface CpuTimes {
  /** The process's own CPU seconds (user + system, all threads). */
  self: number;
  /** CPU seconds of its children that have exited and been reaped. */
  children: number;
}

export function cpuOf(pid: number | 'self'): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = (i: number) => Number(fields[i - 3]) / TICKS_PER_S;
  return { self: tick(14) + tick(15), children: tick(16) + tick(17) };
}

export function totalCpu(pid: number | 'self'): number {
  const { self, children } = cpuOf(pid);
  return self + children;
}

/** Peak resident set size (VmHWM) in MiB. */
export function peakRssMiB(pid: number | 'self'): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
