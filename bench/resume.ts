/**
 * Resume waste: the real pipeline on the 60 s input, the orchestrator process
 * killed (SIGKILL) at a seeded random point of the run, then resumed with
 * {"resume": id} until it finishes. Compared with uninterrupted runs:
 *   - extra compute: CPU seconds of the whole stack beyond an uninterrupted
 *     run's, also in units of the mean task's CPU (target: at most one task);
 *   - re-invoked tasks: stage calls beyond an uninterrupted run's;
 *   - resumed wall ratio: kill-to-final wall (lease expiry included) over an
 *     uninterrupted run's wall.
 *
 * --pauses N adds a control: the orchestrator stopped (SIGSTOP) for as long
 * as a killed one's lease takes to expire, then continued, no kill, no
 * resume: what a gap in the run costs by itself (the stages' CPU time is
 * not the same when the mix of work running beside them changes).
 *
 *   npx tsx bench/resume.ts [--input 60s] [--trials 3] [--seed 8] [--pauses 0]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { STAGE_NAMES } from '../common/contracts/stages.js';
import { speechVideo } from '../test/helpers/media.js';
import { mulberry32 } from '../test/helpers/seeded-random.js';
import { type Stack, startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { type BenchInput, benchVideo } from './lib/media.js';
import { type CpuTimes, median } from './lib/proc.js';
import { cpuDelta, stackCpuByProcess } from './lib/stack-cpu.js';

const { values } = parseArgs({
  options: {
    input: { type: 'string', default: '60s' },
    trials: { type: 'string', default: '3' },
    pauses: { type: 'string', default: '0' },
    baselines: { type: 'string', default: '2' },
    seed: { type: 'string', default: '8' },
  },
});
const input = values.input as BenchInput;
const LEASE_S = 3;
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const random = mulberry32(Number(values.seed));

const video = await benchVideo(input);
const stack = await startStack({ env: { LOG_LEVEL: 'warn', LEASE_S: String(LEASE_S) } });

try {
  await stack.store.put('bench/input.mp4', await readFile(video.path));
  const warm = await speechVideo();
  await stack.store.put('bench/warmup.mp4', await readFile(warm.path));
  const warmed = await postJson(`${stack.url}/function/orchestrator`, {
    video_uri: 'store://bench/warmup.mp4',
    query: 'warm up',
  });
  if (warmed.status !== 200) throw new Error(`warm-up answered ${warmed.status}`);

  const baselines: Run[] = [];
  for (let i = 0; i < Number(values.baselines); i++) {
    const run = await uninterrupted(`resume-base-${i}-${Date.now().toString(36)}`);
    baselines.push(run);
    log(
      `resume[${input}] uninterrupted ${i + 1}: wall ${run.wall.toFixed(2)} s, cpu ${run.cpu.toFixed(2)} s, ${run.calls} stage calls, ${run.tasks} tasks`,
    );
    if (i > 0)
      log(
        `resume[${input}]   cpu by process vs the first: ${extraByProcess(run, baselines[0]!.cpuByProcess)}`,
      );
  }
  const wall0 = median(baselines.map((b) => b.wall));
  const cpu0 = median(baselines.map((b) => b.cpu));
  const calls0 = median(baselines.map((b) => b.calls));
  const taskCpu = cpu0 / baselines[0]!.tasks;

  const perProcess0 = medianByProcess(baselines);
  const trials: Array<Run & { at: number; extraCpu: number; extraCalls: number }> = [];
  for (let i = 0; i < Number(values.trials); i++) {
    const at = 0.1 + 0.8 * random(); // kill somewhere in the middle 80 % of a run
    const run = await interrupted(`resume-kill-${i}-${Date.now().toString(36)}`, at * wall0);
    const trial = { ...run, at, extraCpu: run.cpu - cpu0, extraCalls: run.calls - calls0 };
    trials.push(trial);
    log(
      `resume[${input}] killed at ${(at * 100).toFixed(0)} %: wall ${run.wall.toFixed(2)} s (${(run.wall / wall0).toFixed(2)}×), ` +
        `cpu ${run.cpu.toFixed(2)} s (extra ${trial.extraCpu.toFixed(2)} s = ${(trial.extraCpu / taskCpu).toFixed(2)} tasks), ` +
        `${run.calls} stage calls (${trial.extraCalls} re-invoked)`,
    );
    log(`resume[${input}]   extra cpu by process: ${extraByProcess(run, perProcess0)}`);
  }
  for (let i = 0; i < Number(values.pauses); i++) {
    const at = 0.1 + 0.8 * random();
    const run = await paused(`resume-pause-${i}-${Date.now().toString(36)}`, at * wall0);
    log(
      `resume[${input}] control: paused ${LEASE_S} s at ${(at * 100).toFixed(0)} %: wall ${run.wall.toFixed(2)} s, ` +
        `cpu ${run.cpu.toFixed(2)} s (extra ${(run.cpu - cpu0).toFixed(2)} s = ${((run.cpu - cpu0) / taskCpu).toFixed(2)} tasks)`,
    );
    log(`resume[${input}]   extra cpu by process: ${extraByProcess(run, perProcess0)}`);
  }
  const worstTasks = Math.max(...trials.map((t) => t.extraCpu / taskCpu));
  log(
    `resume[${input}] ${trials.length} kills vs uninterrupted (wall ${wall0.toFixed(2)} s, cpu ${cpu0.toFixed(2)} s, mean task ${taskCpu.toFixed(2)} cpu-s): ` +
      `extra cpu median ${median(trials.map((t) => t.extraCpu)).toFixed(2)} s, worst ${worstTasks.toFixed(2)} tasks; ` +
      `re-invoked calls max ${Math.max(...trials.map((t) => t.extraCalls))}; ` +
      `resumed wall ratio median ${(median(trials.map((t) => t.wall)) / wall0).toFixed(2)}`,
  );
} finally {
  await stack.close();
}
process.exit(0);

interface Run {
  wall: number;
  cpu: number;
  /** CPU seconds of each process (a killed orchestrator's lands in the gateway's, where it was reaped). */
  cpuByProcess: Map<string, number>;
  /** Stage invocations the gateway proxied. */
  calls: number;
  tasks: number;
}

function stageCalls(s: Stack): number {
  return STAGE_NAMES.reduce((n, name) => n + (s.gateway.functions.get(name)?.invocations ?? 0), 0);
}

async function uninterrupted(id: string): Promise<Run> {
  const cpu = stackCpuByProcess(stack);
  const calls = stageCalls(stack);
  const t0 = performance.now();
  const answer = await postJson(`${stack.url}/function/orchestrator`, submitBody(id));
  if (answer.status !== 200) throw new Error(`${id} answered ${answer.status}`);
  return {
    wall: (performance.now() - t0) / 1000,
    ...cpuSince(cpu),
    calls: stageCalls(stack) - calls,
    tasks: Object.keys((await stack.state(id)).tasks).length,
  };
}

async function interrupted(id: string, killAfterS: number): Promise<Run> {
  const cpu = stackCpuByProcess(stack);
  const calls = stageCalls(stack);
  const t0 = performance.now();
  const first = postJson(`${stack.url}/function/orchestrator`, submitBody(id)).catch((err: unknown) => err);
  await sleep(killAfterS * 1000);
  process.kill(stack.pid('orchestrator')!, 'SIGKILL');
  await first; // the gateway answers 502 for the call that died with it
  for (;;) {
    const answer = await postJson(`${stack.url}/function/orchestrator`, { resume: id });
    if (answer.status === 200) break;
    if (answer.status !== 202 && answer.status !== 502 && answer.status !== 503) {
      throw new Error(`resume of ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    await sleep(250); // the dead driver's lease has not expired yet
  }
  return {
    wall: (performance.now() - t0) / 1000,
    ...cpuSince(cpu),
    calls: stageCalls(stack) - calls,
    tasks: Object.keys((await stack.state(id)).tasks).length,
  };
}

/** The control: the same gap as a kill's lease expiry, without the kill. */
async function paused(id: string, pauseAfterS: number): Promise<Run> {
  const cpu = stackCpuByProcess(stack);
  const calls = stageCalls(stack);
  const t0 = performance.now();
  const answer = postJson(`${stack.url}/function/orchestrator`, submitBody(id));
  await sleep(pauseAfterS * 1000);
  const pid = stack.pid('orchestrator')!;
  process.kill(pid, 'SIGSTOP');
  await sleep(LEASE_S * 1000);
  process.kill(pid, 'SIGCONT');
  if ((await answer).status !== 200) throw new Error(`${id} did not finish after the pause`);
  return {
    wall: (performance.now() - t0) / 1000,
    ...cpuSince(cpu),
    calls: stageCalls(stack) - calls,
    tasks: Object.keys((await stack.state(id)).tasks).length,
  };
}

function cpuSince(before: Map<string, CpuTimes>): Pick<Run, 'cpu' | 'cpuByProcess'> {
  const cpuByProcess = new Map<string, number>();
  for (const [name, d] of cpuDelta(before, stackCpuByProcess(stack)))
    cpuByProcess.set(name, d.self + d.children);
  return { cpu: [...cpuByProcess.values()].reduce((a, b) => a + b, 0), cpuByProcess };
}

function medianByProcess(runs: readonly Run[]): Map<string, number> {
  const names = new Set(runs.flatMap((r) => [...r.cpuByProcess.keys()]));
  return new Map([...names].map((n) => [n, median(runs.map((r) => r.cpuByProcess.get(n) ?? 0))]));
}

/** "orchestrator +0.31 s, detect-objects −0.12 s, …": where a killed run spent more than the baseline. */
function extraByProcess(run: Run, baseline: Map<string, number>): string {
  return [...run.cpuByProcess]
    .map(([name, cpu]) => [name, cpu - (baseline.get(name) ?? 0)] as const)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .map(([name, extra]) => `${name} ${extra >= 0 ? '+' : ''}${extra.toFixed(2)} s`)
    .join(', ');
}

function submitBody(id: string) {
  return { video_uri: 'store://bench/input.mp4', query: 'a red car and a dog', request_id: id };
}
