/**
 * Overhead: the whole pipeline through the local gateway (real functions,
 * folder-store bucket, state.json) against plain scripts doing the same work
 * on the same input with the same tools — one sequential, one
 * hand-parallelized. Same machine, runs alternating (the order rotates every
 * round), wall and CPU seconds of each, medians, and the ratios.
 *
 *   npx tsx bench/overhead.ts [--input 60s|10min] [--rounds N] [--clips-at-once K]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { taggedFile } from '../test/helpers/fresh-media.js';
import { speechVideo } from '../test/helpers/media.js';
import { startStack } from '../test/helpers/stack-harness.js';
import { postJson } from './lib/http.js';
import { type BenchInput, benchVideo } from './lib/media.js';
import { plainTools, runPlain } from './lib/plain-pipeline.js';
import { median, totalCpu } from './lib/proc.js';
import { stackCpu } from './lib/stack-cpu.js';
import { requireOwnWork } from './lib/stage-work.js';

const { values } = parseArgs({
  options: {
    input: { type: 'string', default: '60s' },
    rounds: { type: 'string', default: '3' },
    'clips-at-once': { type: 'string', default: '2' },
  },
});
const input = values.input as BenchInput;
if (input !== '60s' && input !== '10min') throw new Error('--input is 60s or 10min');
const rounds = Number(values.rounds);
const clipsAtOnce = Number(values['clips-at-once']);

type Variant = 'sequential' | 'parallel' | 'clipseek';
interface Sample {
  wall: number;
  cpu: number;
}

const video = await benchVideo(input);
const tools = await plainTools();
const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
const log = (line: string) => process.stdout.write(`${line}\n`);

try {
  // Warm-up: every function answers once (the detector loads its model), as the plain tools did.
  const warm = await speechVideo();
  await stack.store.put('bench/warmup.mp4', await taggedFile(warm.path, 'warm-up'));
  const warmAnswer = await postJson(`${stack.url}/function/orchestrator`, {
    video_uri: 'store://bench/warmup.mp4',
    query: 'warm up',
  });
  if (warmAnswer.status !== 200) throw new Error(`warm-up request answered ${warmAnswer.status}`);

  const samples: Record<Variant, Sample[]> = { sequential: [], parallel: [], clipseek: [] };
  const order: Variant[] = ['sequential', 'parallel', 'clipseek'];
  for (let round = 0; round < rounds; round++) {
    const variants = [...order.slice(round % 3), ...order.slice(0, round % 3)];
    for (const variant of variants) {
      const sample = await measure(variant, round);
      samples[variant].push(sample);
      log(
        `overhead[${input}] round ${round + 1} ${variant}: wall ${sample.wall.toFixed(2)} s, cpu ${sample.cpu.toFixed(2)} s (load ${loadavg()[0]!.toFixed(1)})`,
      );
    }
  }
  const m = (v: Variant, k: keyof Sample) => median(samples[v].map((s) => s[k]));
  log(
    `overhead[${input}] median of ${rounds}: sequential ${m('sequential', 'wall').toFixed(2)} s (cpu ${m('sequential', 'cpu').toFixed(2)}), ` +
      `parallel×${clipsAtOnce} ${m('parallel', 'wall').toFixed(2)} s (cpu ${m('parallel', 'cpu').toFixed(2)}), ` +
      `clipseek ${m('clipseek', 'wall').toFixed(2)} s (cpu ${m('clipseek', 'cpu').toFixed(2)}); ` +
      `cpu clipseek/sequential ${(m('clipseek', 'cpu') / m('sequential', 'cpu')).toFixed(2)}; ` +
      `wall clipseek/parallel ${(m('clipseek', 'wall') / m('parallel', 'wall')).toFixed(2)}; ` +
      `wall clipseek/sequential ${(m('clipseek', 'wall') / m('sequential', 'wall')).toFixed(2)}`,
  );
} finally {
  await stack.close();
}
process.exit(0);

async function measure(variant: Variant, round: number): Promise<Sample> {
  if (variant === 'clipseek') {
    // Every round on a video of its own: results are shared by sha256, so the same file twice is reused.
    const id = `overhead-${input}-${round}-${Date.now().toString(36)}`;
    await stack.store.put(`bench/${id}.mp4`, await taggedFile(video.path, id));
    const cpu0 = stackCpu(stack);
    const t0 = performance.now();
    const answer = await postJson(`${stack.url}/function/orchestrator`, {
      video_uri: `store://bench/${id}.mp4`,
      query: 'a red car and a dog',
      request_id: id,
    });
    const wall = (performance.now() - t0) / 1000;
    const cpu = stackCpu(stack) - cpu0;
    if (answer.status !== 200)
      throw new Error(`clipseek answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    await requireOwnWork(stack.store, await stack.state(id), `overhead round ${round + 1}`);
    return { wall, cpu };
  }
  const cpu0 = totalCpu('self');
  const t0 = performance.now();
  await runPlain(video.path, tools, variant, clipsAtOnce);
  return { wall: (performance.now() - t0) / 1000, cpu: totalCpu('self') - cpu0 };
}
