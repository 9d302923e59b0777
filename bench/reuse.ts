/**
 * Reuse of shared stage results (issue 15), all in one run of the real stack
 * (local gateway, every function, folder store), ratios printed last:
 *   - re-query: a first question on a new video, then a second with another
 *     query (same video, same profile): wall and CPU ratios, and the media
 *     stage tasks the second invoked (from its state.json; target 0, and wall
 *     ≤ 2 % of the first on the 10 min input);
 *   - fps change: a request on the same video changing only
 *     `overrides.frames.fps`: which stages ran, its cost against the full run;
 *   - race: two requests at once on a new video, their total CPU against one
 *     request on another new video (target ≤ 1.05×);
 *   - search latency over 100 and 1 000 made-up video index documents
 *     (bench/search.ts).
 * "A new video" is a tagged copy of the bench input (test/helpers/fresh-media.ts):
 * the same media, another sha256, so nothing of an earlier run is reused.
 *
 *   npx tsx bench/reuse.ts [--inputs 60s,10min] [--search-videos 100,1000] [--search-rounds 3]
 */
import { parseArgs } from 'node:util';
import type { ProfileOverrides } from '../common/contracts/profile.js';
import { taggedFile } from '../test/helpers/fresh-media.js';
import { speechVideo } from '../test/helpers/media.js';
import { startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { type BenchInput, benchVideo } from './lib/media.js';
import { stackCpu } from './lib/stack-cpu.js';
import { describeWork, type MediaWork, mediaWork, requireOwnWork, stageCalls } from './lib/stage-work.js';
import { benchSearch } from './search.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '60s,10min' },
    'search-videos': { type: 'string', default: '100,1000' },
    'search-rounds': { type: 'string', default: '3' },
  },
});
const inputs = values.inputs.split(',') as BenchInput[];
for (const i of inputs) if (i !== '60s' && i !== '10min') throw new Error('--inputs: 60s and/or 10min');
const FIRST_QUERY = 'a red car and a dog';
const SECOND_QUERY = 'people talking about the budget';
const log = (line: string) => process.stdout.write(`${line}\n`);
const summary: string[] = [];

interface Run {
  id: string;
  wall: number;
  cpu: number;
  /** Stage calls the gateway proxied meanwhile (a racer waiting on a claim is a call too). */
  calls: number;
  work: MediaWork;
}

const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
let fresh = 0;
try {
  // Warm-up: every function answers once (the detector loads its model) before anything is timed.
  await stack.store.put('bench/warmup.mp4', await taggedFile((await speechVideo()).path, 'warm-up'));
  const warm = await ask('bench/warmup.mp4', 'warm up', 'warmup');
  await requireOwnWork(stack.store, await stack.state(warm.id), 'the warm-up');

  for (const input of inputs) {
    const source = (await benchVideo(input)).path;
    const video = await newVideo(source, input);
    const first = await ask(video, FIRST_QUERY, `${input}-first`);
    await requireOwnWork(stack.store, await stack.state(first.id), `the first question on ${input}`);
    print(`reuse[${input}] first question`, first);
    const second = await ask(video, SECOND_QUERY, `${input}-second`);
    print(`reuse[${input}] second question, another query`, second);
    summary.push(
      `reuse[${input}] second/first: wall ${pct(second.wall / first.wall)} (${second.wall.toFixed(2)} s of ${first.wall.toFixed(2)} s), ` +
        `cpu ${pct(second.cpu / first.cpu)} (${second.cpu.toFixed(2)} s of ${first.cpu.toFixed(2)} s), ` +
        `media tasks invoked ${second.work.invoked} (reused ${second.work.reused}), stage calls ${second.calls}`,
    );

    if (input !== '60s') continue;
    const fps = await ask(video, FIRST_QUERY, `${input}-fps`, { frames: { fps: 2 } });
    print(`reuse[${input}] frames.fps 1 → 2 on the same video`, fps);
    summary.push(
      `reuse[${input}] fps change/full run: wall ${pct(fps.wall / first.wall)}, cpu ${pct(fps.cpu / first.cpu)}; ${describeWork(fps.work)}`,
    );

    const single = await ask(await newVideo(source, input), FIRST_QUERY, `${input}-single`);
    await requireOwnWork(stack.store, await stack.state(single.id), `the single request on ${input}`);
    print(`reuse[${input}] one request on a new video`, single);
    const raceVideo = await newVideo(source, input);
    const race = await measure(async () => {
      const ids = [`reuse-${input}-race-a`, `reuse-${input}-race-b`].map(
        (id) => `${id}-${Date.now().toString(36)}`,
      );
      await Promise.all(ids.map((id) => post(raceVideo, FIRST_QUERY, id)));
      return ids;
    });
    const invoked = race.works.reduce((n, w) => n + w.invoked, 0);
    log(
      `reuse[${input}] two requests at once on a new video: wall ${race.wall.toFixed(2)} s, cpu ${race.cpu.toFixed(2)} s, ` +
        `media tasks invoked ${race.works.map((w) => w.invoked).join(' + ')} (one request: ${single.work.invoked}), stage calls ${race.calls}`,
    );
    summary.push(
      `reuse[${input}] race of two/one request: cpu ${(race.cpu / single.cpu).toFixed(3)}× (${race.cpu.toFixed(2)} s vs ${single.cpu.toFixed(2)} s), ` +
        `wall ${(race.wall / single.wall).toFixed(2)}×; media tasks invoked ${invoked} vs ${single.work.invoked}`,
    );
  }
} finally {
  // A function process that died mid-run (its calls then fail BAD_GATEWAY) is worth knowing.
  const restarts = [...stack.gateway.functions].filter(([, f]) => f.restarts > 0);
  if (restarts.length)
    log(`reuse: function restarts: ${restarts.map(([n, f]) => `${n} ×${f.restarts}`).join(', ')}`);
  await stack.close();
}
// After the stack is gone: the search runs in this process, on index documents of its own.
const searched = await benchSearch({
  videos: values['search-videos'].split(',').map(Number),
  clips: 60,
  rounds: Number(values['search-rounds']),
  log,
});
summary.push(
  `reuse search over analysed videos × 60 clips: ${searched
    .map((r) => `${r.videos} videos p50 ${r.p50Ms.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms`)
    .join('; ')}` +
    (searched.length > 1
      ? `; growth ×${(searched.at(-1)!.p50Ms / searched[0]!.p50Ms).toFixed(1)} (p50) for ×${searched.at(-1)!.videos / searched[0]!.videos} videos`
      : ''),
);
log('== summary');
for (const line of summary) log(line);
process.exit(0);

/** A tagged copy of `source` in the bucket: a video no request has analysed yet. */
async function newVideo(source: string, input: string): Promise<string> {
  const key = `bench/${input}-${++fresh}.mp4`;
  await stack.store.put(key, await taggedFile(source, `${input}-${fresh}-${Date.now()}`));
  return key;
}

async function post(video: string, query: string, id: string, overrides?: ProfileOverrides) {
  const answer = await postJson(`${stack.url}/function/orchestrator`, {
    video_uri: `store://${video}`,
    query,
    request_id: id,
    ...(overrides ? { overrides } : {}),
  });
  if (answer.status !== 200)
    throw new Error(`${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
}

/** Runs `work` (which returns the ids of the requests it made, all finished) and measures it. */
async function measure(work: () => Promise<string[]>) {
  const cpu0 = stackCpu(stack);
  const calls0 = stageCalls(stack);
  const t0 = performance.now();
  const ids = await work();
  const wall = (performance.now() - t0) / 1000;
  const cpu = stackCpu(stack) - cpu0;
  const calls = stageCalls(stack) - calls0;
  const works = await Promise.all(ids.map(async (id) => mediaWork(await stack.state(id))));
  return { ids, wall, cpu, calls, works };
}

async function ask(video: string, query: string, tag: string, overrides?: ProfileOverrides): Promise<Run> {
  const id = `reuse-${tag}-${Date.now().toString(36)}`;
  const m = await measure(async () => {
    await post(video, query, id, overrides);
    return [id];
  });
  return { id, wall: m.wall, cpu: m.cpu, calls: m.calls, work: m.works[0]! };
}

function print(what: string, run: Run): void {
  log(
    `${what}: wall ${run.wall.toFixed(2)} s, cpu ${run.cpu.toFixed(2)} s, ${describeWork(run.work)}, stage calls ${run.calls}`,
  );
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 2 : 1)} %`;
}
