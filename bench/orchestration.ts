/**
 * Orchestration cost: what the orchestrator itself spends per task, with
 * no-op stages (test/fixtures/functions/faulty-stage.ts, no faults) behind the
 * real gateway, at 100 / 1 000 / 10 000 clips (4 request tasks + 4 × clips).
 *
 *   - CPU: utime + stime of the orchestrator process (/proc/<pid>/stat) from
 *     just before the request to its final answer, divided by the tasks;
 *   - state.json writes: counted in the orchestrator process by
 *     bench/lib/count-state-writes.mjs (one folder-store publish = one write);
 *   - state.json size at the end; peak RSS (VmHWM) of the orchestrator process,
 *     which is started fresh for every size.
 *
 * Each fresh orchestrator first serves one 100-clip request (404 tasks), as
 * a long-running function (of-watchdog http mode) would have: the CPU per
 * task is the steady cost, not V8 compiling and optimising the bundle's hot
 * paths over its first few hundred calls. That first request is printed
 * apart ("first request of the fresh orchestrator").
 *
 *
 *   npx tsx bench/orchestration.ts [--clips 100,1000,10000]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIP_STAGES, FUNCTION_STAGES, REQUEST_STAGES } from '../common/contracts/pipeline.js';
import { requestKeys } from '../common/keys.js';
import { startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { cpuOf, peakRssMiB } from './lib/proc.js';
import { describeWork, mediaWork } from './lib/stage-work.js';

const { values } = parseArgs({ options: { clips: { type: 'string', default: '100,1000,10000' } } });
const sizes = values.clips.split(',').map(Number);
const COUNTER = resolve(import.meta.dirname, 'lib/count-state-writes.mjs');
const TARGET_MS_PER_TASK = 1;
const TARGET_WRITES_PER_TASK = 2;
const TARGET_RSS_MIB = 256;
const WARMUP_CLIPS = 100;
/** A request's tasks: copy-source, extract-audio, segment-speech, cut-clips, then four per clip. */
const tasksOf = (clips: number) => REQUEST_STAGES.length + CLIP_STAGES.length * clips;
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Result {
  clips: number;
  tasks: number;
  wallS: number;
  cpuMsPerTask: number;
  writesPerTask: number;
  stateMiB: number;
  rssMiB: number;
}

const results: Result[] = [];
for (const clips of sizes) results.push(await measure(clips));
const worst = (k: keyof Result) => Math.max(...results.map((r) => r[k]));
log(
  `orchestration: ${results
    .map(
      (r) =>
        `${r.clips} clips ${r.cpuMsPerTask.toFixed(3)} ms cpu/task, ${r.writesPerTask.toFixed(4)} writes/task, ` +
        `state.json ${r.stateMiB.toFixed(2)} MiB, peak RSS ${r.rssMiB.toFixed(0)} MiB`,
    )
    .join('; ')}; ` +
    `worst ratio to target: cpu/task ${(worst('cpuMsPerTask') / TARGET_MS_PER_TASK).toFixed(2)}, ` +
    `writes/task ${(worst('writesPerTask') / TARGET_WRITES_PER_TASK).toFixed(3)}, ` +
    `RSS@${results.at(-1)!.clips} ${(results.at(-1)!.rssMiB / TARGET_RSS_MIB).toFixed(2)}`,
);
process.exit(0);

async function measure(clips: number): Promise<Result> {
  const markerDir = mkdtempSync(join(tmpdir(), 'clipseek-bench-orch-'));
  const writesLog = join(markerDir, 'state-writes.log');
  const counted = await startStack({
    fakeStages: true,
    only: ['orchestrator', ...FUNCTION_STAGES],
    markerDir,
    env: {
      FAKE_DURATION_S: String(clips * 10),
      FAKE_LOG_WRITES: '0',
      LOG_LEVEL: 'warn',
      STATE_WRITES_LOG: writesLog,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${COUNTER}`.trim(),
    },
  });
  try {
    await counted.store.put('uploads/video.mp4', Buffer.from('no-op stages never look inside'));
    await counted.store.put('uploads/warmup.mp4', Buffer.from(`fake-duration-s ${WARMUP_CLIPS * 10}`));
    const pid = counted.pid('orchestrator')!;
    const warmup = await runRequest(`orch-warmup-${clips}`, WARMUP_CLIPS, 'uploads/warmup.mp4');
    log(
      `orchestration[${clips} clips] first request of the fresh orchestrator (${WARMUP_CLIPS} clips): ` +
        `cpu per task ${((warmup.cpuS * 1000) / tasksOf(WARMUP_CLIPS)).toFixed(3)} ms`,
    );
    const id = `orch-${clips}`;
    const { wallS, cpuS, answer } = await runRequest(id, clips);
    const state = await counted.state(id);
    if (state.status !== 'SUCCEEDED')
      throw new Error(`${id} ended ${state.status} (answer ${answer.status})`);
    const tasks = Object.keys(state.tasks).length;
    // Its own video in a fresh bucket: every stage task invoked, none reused from another request.
    const work = mediaWork(state);
    if (work.reused > 0) throw new Error(`${id} reused ${work.reused} tasks: ${describeWork(work)}`);
    if (tasks !== tasksOf(clips)) throw new Error(`${id} has ${tasks} tasks, expected ${tasksOf(clips)}`);
    const writes = readFileSync(writesLog, 'utf8')
      .split('\n')
      .filter((l) => l.endsWith(`/${id}/metadata/state.json`)).length;
    const result: Result = {
      clips,
      tasks,
      wallS,
      cpuMsPerTask: (cpuS * 1000) / tasks,
      writesPerTask: writes / tasks,
      stateMiB: statSync(join(counted.bucketDir, requestKeys(id).state)).size / 2 ** 20,
      rssMiB: peakRssMiB(pid),
    };
    log(
      `orchestration[${clips} clips] ${tasks} tasks in ${wallS.toFixed(1)} s (answer ${answer.status}, runs ${state.runs}): ` +
        `orchestrator cpu ${cpuS.toFixed(2)} s, state.json writes ${writes}, state.json ${result.stateMiB.toFixed(2)} MiB, ` +
        `peak RSS ${result.rssMiB.toFixed(0)} MiB; cpu per task ${result.cpuMsPerTask.toFixed(3)} ms`,
    );
    return result;
  } finally {
    await counted.close();
    rmSync(markerDir, { recursive: true, force: true });
  }

  async function runRequest(id: string, clipCount: number, video = 'uploads/video.mp4') {
    const pid = counted.pid('orchestrator')!;
    const cpu0 = cpuOf(pid).self;
    const t0 = performance.now();
    const answer = await postJson(`${counted.url}/function/orchestrator`, {
      video_uri: `store://${video}`,
      query: 'find the car',
      request_id: id,
      overrides: { run: { max_clips: clipCount } },
    });
    // Past the orchestrator's time budget it hands over to itself (202): wait for the end.
    while (!existsSync(join(counted.bucketDir, requestKeys(id).final))) await sleep(200);
    return { wallS: (performance.now() - t0) / 1000, cpuS: cpuOf(pid).self - cpu0, answer };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
