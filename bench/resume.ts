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
 *   npx tsx bench/resume.ts [--input 60s] [--trials 3] [--seed 8]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { STAGE_NAMES } from '../common/contracts/stages.js';
import { speechVideo } from '../test/helpers/media.js';
import { mulberry32 } from '../test/helpers/seeded-random.js';
import { type Stack, startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { type BenchInput, benchVideo } from './lib/media.js';
import { median } from './lib/proc.js';
import { stackCpu } from './lib/stack-cpu.js';

const { values } = parseArgs({
  options: {
    input: { type: 'string', default: '60s' },
    trials: { type: 'string', default: '3' },
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
  }
  const wall0 = median(baselines.map((b) => b.wall));
  const cpu0 = median(baselines.map((b) => b.cpu));
  const calls0 = median(baselines.map((b) => b.calls));
  const taskCpu = cpu0 / baselines[0]!.tasks;

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
  /** Stage invocations the gateway proxied. */
  calls: number;
  tasks: number;
}

function stageCalls(s: Stack): number {
  return STAGE_NAMES.reduce((n, name) => n + (s.gateway.functions.get(name)?.invocations ?? 0), 0);
}

async function uninterrupted(id: string): Promise<Run> {
  const cpu = stackCpu(stack);
  const calls = stageCalls(stack);
  const t0 = performance.now();
  const answer = await postJson(`${stack.url}/function/orchestrator`, submitBody(id));
  if (answer.status !== 200) throw new Error(`${id} answered ${answer.status}`);
  return {
    wall: (performance.now() - t0) / 1000,
    cpu: stackCpu(stack) - cpu,
    calls: stageCalls(stack) - calls,
    tasks: Object.keys((await stack.state(id)).tasks).length,
  };
}

async function interrupted(id: string, killAfterS: number): Promise<Run> {
  const cpu = stackCpu(stack);
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
    cpu: stackCpu(stack) - cpu,
    calls: stageCalls(stack) - calls,
    tasks: Object.keys((await stack.state(id)).tasks).length,
  };
}

function submitBody(id: string) {
  return { video_uri: 'store://bench/input.mp4', query: 'a red car and a dog', request_id: id };
}
