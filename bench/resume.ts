/**
 * Resume waste: the real pipeline on the 60 s input, the orchestrator process
 * killed (SIGKILL) at a seeded random point of the run, then resumed with
 * {"resume": id} once its lease has expired, as the sweeper would.
 * Compared with uninterrupted runs:
 *   - extra compute: CPU seconds of the whole stack beyond the uninterrupted
 *     runs just before and after it (they alternate, which cancels the drift
 *     of a long session), also in units of the mean task's CPU (target: at
 *     most one task);
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
import { parseArgs } from 'node:util';
import { taggedFile } from '../test/helpers/fresh-media.js';
import { speechVideo } from '../test/helpers/media.js';
import { mulberry32 } from '../test/helpers/seeded-random.js';
import { startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { type BenchInput, benchVideo } from './lib/media.js';
import { type CpuTimes, median } from './lib/proc.js';
import { cpuDelta, stackCpuByProcess } from './lib/stack-cpu.js';
import { requireOwnWork, stageCalls } from './lib/stage-work.js';

const { values } = parseArgs({
  options: {
    input: { type: 'string', default: '60s' },
    trials: { type: 'string', default: '3' },
    pauses: { type: 'string', default: '0' },
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
  const warm = await speechVideo();
  await stack.store.put('bench/warmup.mp4', await taggedFile(warm.path, 'warm-up'));
  const warmed = await postJson(`${stack.url}/function/orchestrator`, {
    video_uri: 'store://bench/warmup.mp4',
    query: 'warm up',
  });
  if (warmed.status !== 200) throw new Error(`warm-up answered ${warmed.status}`);

  // Uninterrupted runs alternate with the interrupted ones (B K B K B … P B), and each
  // interrupted run is compared with the two uninterrupted runs beside it: the stack's
  // CPU per run drifts over a session by more than one task, and this cancels it.
  const baselines: Run[] = [await baseline(0)];
  const wallGuess = baselines[0]!.wall;
  const kinds = [
    ...Array.from({ length: Number(values.trials) }, () => 'kill' as const),
    ...Array.from({ length: Number(values.pauses) }, () => 'pause' as const),
  ];
  const kills: Compared[] = [];
  const pauses: Compared[] = [];
  for (const [i, kind] of kinds.entries()) {
    const at = 0.1 + 0.8 * random(); // somewhere in the middle 80 % of a run
    const id = `resume-${kind}-${i}-${Date.now().toString(36)}`;
    const run = kind === 'kill' ? await interrupted(id, at * wallGuess) : await paused(id, at * wallGuess);
    const before = baselines.at(-1)!;
    const after = await baseline(baselines.length);
    baselines.push(after);
    const compared = compare(run, [before, after]);
    (kind === 'kill' ? kills : pauses).push(compared);
    const what = kind === 'kill' ? `killed at ${pct(at)}` : `control: paused ${LEASE_S} s at ${pct(at)}`;
    log(
      `resume[${input}] ${what}: wall ${run.wall.toFixed(2)} s (${compared.wallRatio.toFixed(2)}×), ` +
        `cpu ${run.cpu.toFixed(2)} s (extra ${compared.extraCpu.toFixed(2)} s = ${compared.extraTasks.toFixed(2)} tasks ` +
        `vs the runs before and after), ${run.calls} stage calls (${compared.extraCalls} re-invoked)`,
    );
    log(`resume[${input}]   extra cpu by process: ${extraByProcess(run, compared.byProcess)}`);
  }
  const spread = Math.max(...baselines.map((b) => b.cpu)) - Math.min(...baselines.map((b) => b.cpu));
  const taskCpu = median(baselines.map((b) => b.cpu)) / baselines[0]!.tasks;
  log(
    `resume[${input}] ${kills.length} kills, each vs the uninterrupted runs beside it (${baselines.length} runs, ` +
      `cpu spread ${spread.toFixed(2)} s = ${(spread / taskCpu).toFixed(2)} tasks, mean task ${taskCpu.toFixed(2)} cpu-s): ` +
      `extra cpu median ${median(kills.map((k) => k.extraCpu)).toFixed(2)} s, ` +
      `mean ${meanAndError(kills.map((k) => k.extraTasks))} tasks, ` +
      `worst ${Math.max(...kills.map((k) => k.extraTasks)).toFixed(2)} tasks` +
      (pauses.length > 0
        ? `; pause-only control median ${median(pauses.map((k) => k.extraTasks)).toFixed(2)} tasks`
        : '') +
      `; re-invoked calls max ${Math.max(...kills.map((k) => k.extraCalls))}; ` +
      `resumed wall ratio median ${median(kills.map((k) => k.wallRatio)).toFixed(2)}`,
  );
} finally {
  await stack.close();
}
process.exit(0);

interface Compared {
  extraCpu: number;
  extraTasks: number;
  extraCalls: number;
  wallRatio: number;
  byProcess: Map<string, number>;
}

async function baseline(i: number): Promise<Run> {
  const run = await uninterrupted(`resume-base-${i}-${Date.now().toString(36)}`);
  log(
    `resume[${input}] uninterrupted ${i + 1}: wall ${run.wall.toFixed(2)} s, cpu ${run.cpu.toFixed(2)} s, ${run.calls} stage calls, ${run.tasks} tasks`,
  );
  return run;
}

/** An interrupted run against the mean of the uninterrupted runs beside it. */
function compare(run: Run, beside: readonly Run[]): Compared {
  const mean = (f: (r: Run) => number) => beside.reduce((sum, r) => sum + f(r), 0) / beside.length;
  const cpu = mean((r) => r.cpu);
  const byProcess = new Map(
    [...run.cpuByProcess.keys()].map((n) => [n, mean((r) => r.cpuByProcess.get(n) ?? 0)] as const),
  );
  return {
    extraCpu: run.cpu - cpu,
    extraTasks: (run.cpu - cpu) / (cpu / run.tasks),
    extraCalls: run.calls - mean((r) => r.calls),
    wallRatio: run.wall / mean((r) => r.wall),
    byProcess,
  };
}

/** "1.02 ± 0.31": the mean and its standard error. */
function meanAndError(values: readonly number[]): string {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return `${mean.toFixed(2)} ± ${Math.sqrt(variance / n).toFixed(2)}`;
}

function pct(at: number): string {
  return `${(at * 100).toFixed(0)} %`;
}

interface Run {
  wall: number;
  cpu: number;
  /** CPU seconds of each process (a killed orchestrator's lands in the gateway's, where it was reaped). */
  cpuByProcess: Map<string, number>;
  /** Stage invocations the gateway proxied. */
  calls: number;
  tasks: number;
}

/**
 * Runs `work` (which ends when request `id` is final) and measures it. Each run
 * is on a video of its own (results are shared by sha256): a repeat would be reused.
 */
async function measured(id: string, work: () => Promise<void>): Promise<Run> {
  await stack.store.put(`bench/${id}.mp4`, await taggedFile(video.path, id));
  const cpu = stackCpuByProcess(stack);
  const calls = stageCalls(stack);
  const t0 = performance.now();
  await work();
  const run = { wall: (performance.now() - t0) / 1000, ...cpuSince(cpu), calls: stageCalls(stack) - calls };
  const state = await stack.state(id);
  await requireOwnWork(stack.store, state, id);
  return { ...run, tasks: Object.keys(state.tasks).length };
}

function uninterrupted(id: string): Promise<Run> {
  return measured(id, async () => {
    const answer = await postJson(`${stack.url}/function/orchestrator`, submitBody(id));
    if (answer.status !== 200) throw new Error(`${id} answered ${answer.status}`);
  });
}

function interrupted(id: string, killAfterS: number): Promise<Run> {
  return measured(id, async () => {
    const first = postJson(`${stack.url}/function/orchestrator`, submitBody(id)).catch((err: unknown) => err);
    await sleep(killAfterS * 1000);
    process.kill(stack.pid('orchestrator')!, 'SIGKILL');
    await first; // the gateway answers 502 for the call that died with it
    for (;;) {
      // Like the sweeper: resume once the dead driver's lease has expired (read from state.json
      // in the bucket), rather than asking the orchestrator over and over until it lets go.
      const lease = (await stack.state(id)).lease;
      if (lease) await sleep(Math.max(0, Date.parse(lease.expires_at) - Date.now()) + 20);
      const answer = await postJson(`${stack.url}/function/orchestrator`, { resume: id });
      if (answer.status === 200) return;
      if (answer.status !== 202 && answer.status !== 502 && answer.status !== 503) {
        throw new Error(`resume of ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
      await sleep(100); // the orchestrator is still restarting (502/503)
    }
  });
}

/** The control: the same gap as a kill's lease expiry, without the kill. */
function paused(id: string, pauseAfterS: number): Promise<Run> {
  return measured(id, async () => {
    const answer = postJson(`${stack.url}/function/orchestrator`, submitBody(id));
    await sleep(pauseAfterS * 1000);
    const pid = stack.pid('orchestrator')!;
    process.kill(pid, 'SIGSTOP');
    await sleep(LEASE_S * 1000);
    process.kill(pid, 'SIGCONT');
    if ((await answer).status !== 200) throw new Error(`${id} did not finish after the pause`);
  });
}

function cpuSince(before: Map<string, CpuTimes>): Pick<Run, 'cpu' | 'cpuByProcess'> {
  const cpuByProcess = new Map<string, number>();
  for (const [name, d] of cpuDelta(before, stackCpuByProcess(stack)))
    cpuByProcess.set(name, d.self + d.children);
  return { cpu: [...cpuByProcess.values()].reduce((a, b) => a + b, 0), cpuByProcess };
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
  return { video_uri: `store://bench/${id}.mp4`, query: 'a red car and a dog', request_id: id };
}
