/**
 * Where a pipeline run spends its time: one request on the bench input
 * through the local stack, then each task's start and end (from state.json)
 * as a text chart, and the CPU of each function process (with its ffmpeg /
 * pocketsphinx children). This is how the scheduling tail behind the
 * overhead bench's ratio was found (see ready-queue.ts).
 *
 *   npx tsx bench/timeline.ts [--input 60s|10min] [--rounds N]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { taggedFile } from '../test/helpers/fresh-media.js';
import { speechVideo } from '../test/helpers/media.js';
import { startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { type BenchInput, benchVideo } from './lib/media.js';
import { cpuDelta, stackCpuByProcess } from './lib/stack-cpu.js';
import { requireOwnWork } from './lib/stage-work.js';

const { values } = parseArgs({
  options: { input: { type: 'string', default: '60s' }, rounds: { type: 'string', default: '1' } },
});
const input = values.input as BenchInput;
const COLUMNS_PER_S = 4;
const log = (line: string) => process.stdout.write(`${line}\n`);

const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
try {
  const source = (await benchVideo(input)).path;
  // Warm-up, as in the overhead bench: every function answers once (the detector loads its model).
  await stack.store.put('bench/warmup.mp4', await readFile((await speechVideo()).path));
  await postJson(`${stack.url}/function/orchestrator`, {
    video_uri: 'store://bench/warmup.mp4',
    query: 'warm up',
  });

  for (let round = 1; round <= Number(values.rounds); round++) {
    const id = `timeline-${round}-${Date.now().toString(36)}`;
    // Each round on a video of its own: results are shared by sha256, a repeat would be reused.
    await stack.store.put(`bench/${id}.mp4`, await taggedFile(source, id));
    const before = stackCpuByProcess(stack);
    const t0 = performance.now();
    const answer = await postJson(`${stack.url}/function/orchestrator`, {
      video_uri: `store://bench/${id}.mp4`,
      query: 'a red car',
      request_id: id,
    });
    const wall = (performance.now() - t0) / 1000;
    const after = stackCpuByProcess(stack);
    const state = await stack.state(id);
    await requireOwnWork(stack.store, state, id);
    log(`timeline[${input}] round ${round}: answer ${answer.status}, wall ${wall.toFixed(2)} s`);

    const origin = Date.parse(state.created_at);
    const at = (iso: string | undefined) => (iso ? (Date.parse(iso) - origin) / 1000 : Number.NaN);
    const rows = Object.entries(state.tasks)
      .map(([key, t]) => ({ key, start: at(t.started_at), end: at(t.finished_at) }))
      .filter((r) => Number.isFinite(r.start))
      .sort((a, b) => a.start - b.start);
    for (const { key, start, end } of rows) {
      const bar = `${' '.repeat(Math.round(start * COLUMNS_PER_S))}${'#'.repeat(Math.max(1, Math.round((end - start) * COLUMNS_PER_S)))}`;
      log(`${key.padEnd(22)} ${start.toFixed(2).padStart(7)} ${end.toFixed(2).padStart(7)}  ${bar}`);
    }

    let total = 0;
    for (const [name, { self, children }] of cpuDelta(before, after)) {
      total += self + children;
      log(`cpu ${name.padEnd(16)} node ${self.toFixed(2)} s, children ${children.toFixed(2)} s`);
    }
    log(
      `cpu total ${total.toFixed(2)} s (gateway and bench process included); 2-core limit ${(total / 2).toFixed(2)} s, wall/limit ${(wall / (total / 2)).toFixed(2)}`,
    );
  }
} finally {
  await stack.close();
}
process.exit(0);
