/**
 * Concurrency: N requests submitted at once (5, then 20) through the real
 * gateway and the real pipeline, on a short speech video. Reports the success
 * rate (how many answered 200 SUCCEEDED, and the codes of the others), the
 * total wall, and the CPU-bound limit: the stack's CPU seconds for the batch
 * divided by the cores — no schedule can finish faster. The ratio wall/limit
 * is how far from CPU-bound the batch ran.
 *
 * --patient gives every request more retries (max_attempts 10, backoff
 * 0.5…10 s), to show what the stages do when the gateway's 429s (a stage at
 * its max_inflight) are retried long enough.
 *
 *   npx tsx bench/concurrency.ts [--requests 5,20] [--patient]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { taggedFile } from '../test/helpers/fresh-media.js';
import { speechVideo } from '../test/helpers/media.js';
import { startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { stackCpu } from './lib/stack-cpu.js';
import { requireOwnWork } from './lib/stage-work.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '5,20' }, patient: { type: 'boolean', default: false } },
});
const PATIENT = { run: { max_attempts: 10, backoff_base_ms: 500, backoff_max_ms: 10_000 } };
const mode = values.patient ? 'patient retries' : 'default profile';
const batches = values.requests.split(',').map(Number);
const cores = availableParallelism();
const log = (line: string) => process.stdout.write(`${line}\n`);

const video = await speechVideo({ durationS: 20 });
const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
try {
  await stack.store.put('bench/warmup.mp4', await taggedFile(video.path, 'warm-up'));
  const warm = await postJson(`${stack.url}/function/orchestrator`, {
    video_uri: 'store://bench/warmup.mp4',
    query: 'warm up',
  });
  if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
  const summaries: string[] = [];
  for (const n of batches) {
    // N different videos (tagged copies): N requests on one video would share one analysis.
    const ids = Array.from({ length: n }, (_, i) => `conc-${n}-${i}-${Date.now().toString(36)}`);
    for (const id of ids) await stack.store.put(`bench/${id}.mp4`, await taggedFile(video.path, id));
    const cpu0 = stackCpu(stack);
    const t0 = performance.now();
    const answers = await Promise.all(
      ids.map((id) =>
        postJson(`${stack.url}/function/orchestrator`, {
          video_uri: `store://bench/${id}.mp4`,
          query: 'find the red car',
          request_id: id,
          ...(values.patient ? { overrides: PATIENT } : {}),
        }).then((a) => ({ ...a, wall: (performance.now() - t0) / 1000 })),
      ),
    );
    const wall = (performance.now() - t0) / 1000;
    const cpu = stackCpu(stack) - cpu0;
    const ok = answers.filter(
      (a) => a.status === 200 && (a.body as { status?: string }).status === 'SUCCEEDED',
    );
    const failures = tally(
      answers
        .filter((a) => !ok.includes(a))
        .map((a) => `${a.status} ${(a.body as { error?: { code?: string } })?.error?.code ?? ''}`.trim()),
    );
    for (const [i, id] of ids.entries())
      if (ok.includes(answers[i]!)) await requireOwnWork(stack.store, await stack.state(id), id);
    const limit = cpu / cores;
    log(
      `concurrency[${n}, ${mode}] ${ok.length}/${n} succeeded${failures ? ` (others: ${failures})` : ''}; ` +
        `wall ${wall.toFixed(1)} s (first answer ${Math.min(...answers.map((a) => a.wall)).toFixed(1)} s), ` +
        `cpu ${cpu.toFixed(1)} s on ${cores} cores = CPU-bound limit ${limit.toFixed(1)} s; wall/limit ${(wall / limit).toFixed(2)}`,
    );
    summaries.push(
      `${n} at once: success ${((100 * ok.length) / n).toFixed(0)} %, wall ${wall.toFixed(1)} s vs limit ${limit.toFixed(1)} s, ratio ${(wall / limit).toFixed(2)}`,
    );
  }
  log(`concurrency (${mode}): ${summaries.join('; ')}`);
} finally {
  await stack.close();
}
process.exit(0);

/** "429 TOO_MANY_REQUESTS ×4, 502 STAGE_TIMEOUT ×1" */
function tally(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => `${item} ×${n}`).join(', ');
}
