/**
 * Quality: how right the answers are, on real footage nobody here made
 * (Debian's opencv-doc videos and the LibriVox clips of pocketsphinx-testdata;
 * truth by eye in bench/ground-truth.json, see bench/GROUND-TRUTH.md).
 *
 * Each video runs once per detector configuration through the real stack
 * (local gateway, every function, folder store). Matching is a pure function
 * of the stage outputs, so every query of the truth file is then answered
 * from those outputs (assembleFinal with the query swapped in), not by
 * running the pipeline again. Per query it prints:
 *   coverage   share of the true time the answer ranges for the label cover
 *   precision  share of the answered time that is true
 *   answers    how many separate answers (matches) claim the label
 * and, per configuration, the detector's CPU per frame; for the LibriVox
 * clips, word error rate and whether a spoken word is found.
 *
 *   npx tsx bench/quality.ts [--configs tiles+support,letterbox] [--videos vtest.avi,cup.mp4] [--no-speech]
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { FinalResult } from '../common/contracts/final.js';
import type { ProfileOverrides } from '../common/contracts/profile.js';
import type { RequestState } from '../common/contracts/state.js';
import { loadManifest } from '../common/manifests.js';
import { isTerminal } from '../common/state/lifecycle.js';
import { taskKey } from '../common/task-key.js';
import { assembleFinal } from '../functions/orchestrator/assemble.js';
import { taggedFile } from '../test/helpers/fresh-media.js';
import { MEDIA_CACHE_DIR, speechVideo } from '../test/helpers/media.js';
import { librivoxClips, wordErrorRate } from '../test/helpers/speech.js';
import { type Stack, startStack, waitFor } from '../test/helpers/stack-harness.js';
import { ensureFootage, type FootageName } from './lib/footage.js';
import { postJson } from './lib/http.js';
import { answeredRanges, type RangeScore, scoreRanges } from './lib/quality-score.js';
import { stackCpuByProcess } from './lib/stack-cpu.js';
import { requireOwnWork } from './lib/stage-work.js';

const exec = promisify(execFile);

/** Detector configurations: the levers of issue 13's table, as profile overrides. */
const CONFIGS: Record<string, ProfileOverrides> = {
  letterbox: { detect: { views: 'letterbox', support_score: 0.3 } },
  'letterbox+support': { detect: { views: 'letterbox' } },
  tiles: { detect: { views: 'tiles', support_score: 0.3 } },
  'tiles+support': { detect: { views: 'tiles' } },
  'tiles+support@2fps': { detect: { views: 'tiles' }, frames: { fps: 2 } },
  both: { detect: { views: 'both', support_score: 0.3 } },
  'both+support': { detect: { views: 'both' } },
  'both+support@2fps': { detect: { views: 'both' }, frames: { fps: 2 } },
};

interface Truth {
  videos: Record<
    string,
    {
      duration_s: number;
      has_speech: boolean;
      truth: Record<string, [number, number][]>;
      borderline: string[];
    }
  >;
  queries: Array<{
    video: string;
    query: string;
    label: string | null;
    cannot_see?: boolean;
    truth_key?: string;
  }>;
  speech: { items: Array<{ clip: string; word: string; spoken: boolean }> };
}

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: Object.keys(CONFIGS).join(',') },
    videos: { type: 'string' },
    'no-speech': { type: 'boolean', default: false },
  },
});
const configs = values.configs.split(',').filter(Boolean);
for (const c of configs)
  if (!CONFIGS[c]) throw new Error(`unknown config ${c}: ${Object.keys(CONFIGS).join(', ')}`);
const truth = JSON.parse(await readFile(new URL('./ground-truth.json', import.meta.url), 'utf8')) as Truth;
const videos = (values.videos?.split(',') ?? Object.keys(truth.videos)) as FootageName[];
const log = (line: string) => process.stdout.write(`${line}\n`);
const f2 = (v: number | undefined) => (v === undefined ? '  – ' : v.toFixed(2));

const footage = await ensureFootage();
const stack = await startStack({ env: { LOG_LEVEL: 'warn', MAX_CONCURRENT_INVOCATIONS: '3' } });
try {
  // Warm-up: every function answers once (the detector loads its model) before anything is timed.
  const warm = await speechVideo();
  await stack.store.put('bench/warmup.mp4', await readFile(warm.path));
  await analyse(stack, 'quality-warmup', 'store://bench/warmup.mp4', {});
  const summary: string[] = [];
  const failures: string[] = [];
  for (const config of configs) {
    const scores: Array<{ present: boolean; score: RangeScore }> = [];
    let detectMs = 0;
    let frames = 0;
    for (const name of videos) {
      const id = `quality-${config.replace(/[^a-z0-9]+/gi, '-')}-${name.replace(/\W+/g, '-')}`;
      // A copy of its own per configuration (same media, another sha256): the detector's CPU is
      // measured, and with results shared by sha256 a configuration could reuse another's detections.
      await stack.store.put(`bench/${id}/${name}`, await taggedFile(footage[name], id));
      const cpuBefore = detectorCpuS(stack);
      const state = await analyse(stack, id, `store://bench/${id}/${name}`, CONFIGS[config]!).catch(
        (err: unknown) => {
          log(`quality[${config}] ${name}: FAILED ${err instanceof Error ? err.message : String(err)}`);
          failures.push(`${config} ${name}`);
          return undefined;
        },
      );
      if (!state) continue;
      detectMs += (detectorCpuS(stack) - cpuBefore) * 1000;
      const video = truth.videos[name]!;
      const first = await answer(stack, state, 'anything');
      frames += await countFrames(stack, state, first);
      for (const q of truth.queries.filter((x) => x.video === name)) {
        const final = await answer(stack, state, q.query);
        if (q.cannot_see) {
          const objects = final.understood.labels.join(', ');
          const said = !final.answerable
            ? 'cannot be answered'
            : `${objects ? `looked for ${objects}` : 'searched in speech'} (${final.matches.length} matches)`;
          const near = final.understood.suggestions.flatMap((s) => s.labels).join(', ') || '–';
          log(
            `quality[${config}] ${name} "${q.query}": ${said}; unseeable ${final.understood.speech_only.join(', ')}; near ${near}`,
          );
          continue;
        }
        const label = q.label!;
        const score = scoreRanges(answeredRanges(final.matches, label), video.truth[label] ?? []);
        const borderline = video.borderline.includes(label);
        if (!borderline) scores.push({ present: score.trueS > 0, score });
        log(
          `quality[${config}] ${name} "${q.query}" (${label}${score.trueS ? '' : ', absent'}${borderline ? ', borderline: not scored' : ''}): ` +
            `coverage ${f2(score.coverage)} precision ${f2(score.precision)} answers ${score.answers} ` +
            `answered ${score.answeredS.toFixed(1)} s of ${score.trueS.toFixed(1)} s true`,
        );
      }
    }
    const present = scores.filter((s) => s.present);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
    const falseS = scores.filter((s) => !s.present).reduce((sum, s) => sum + s.score.answeredS, 0);
    const line =
      `quality[${config}] summary: mean coverage ${f2(mean(present.map((s) => s.score.coverage!)))} ` +
      `mean precision ${f2(mean(present.flatMap((s) => (s.score.precision === undefined ? [] : [s.score.precision]))))} ` +
      `over ${present.length} present labels; ${falseS.toFixed(1)} s answered for ${scores.length - present.length} absent labels; ` +
      `detection ${frames ? (detectMs / frames).toFixed(0) : '–'} ms CPU per frame over ${frames} frames`;
    log(line);
    summary.push(line);
  }
  if (!values['no-speech']) summary.push(...(await speech(stack)));
  if (failures.length) summary.push(`quality: ${failures.length} analyses FAILED: ${failures.join(', ')}`);
  log('== summary');
  for (const line of summary) log(line);
} finally {
  await stack.close();
}
process.exit(0);

/** Runs one request to the end (sync call; a continuation is waited for) and returns its state. */
async function analyse(
  stack: Stack,
  id: string,
  videoUri: string,
  overrides: ProfileOverrides,
): Promise<RequestState> {
  const started = performance.now();
  const res = await postJson(`${stack.url}/function/orchestrator`, {
    video_uri: videoUri,
    query: 'anything',
    request_id: id,
    overrides,
  });
  if (res.status !== 200 && res.status !== 202)
    throw new Error(`${id}: ${res.status} ${JSON.stringify(res.body)}`);
  await waitFor(async () => isTerminal((await stack.state(id)).status), id, 1_800_000);
  const state = await stack.state(id);
  if (state.status !== 'SUCCEEDED')
    throw new Error(`${id} ended ${state.status}: ${JSON.stringify(state.error)}`);
  await requireOwnWork(stack.store, state, id);
  log(`analysed ${id} in ${((performance.now() - started) / 1000).toFixed(1)} s, ${state.clips} clips`);
  return state;
}

/** CPU seconds the detect-objects process has used (model, decoding, every view of every frame). */
function detectorCpuS(stack: Stack): number {
  const cpu = stackCpuByProcess(stack).get('detect-objects');
  return cpu ? cpu.self + cpu.children : 0;
}

/** The answer to `query` from a finished request's stage outputs. */
function answer(stack: Stack, state: RequestState, query: string): Promise<FinalResult> {
  return assembleFinal(stack.store, { ...state, request: { ...state.request, query } }, new Date());
}

async function countFrames(stack: Stack, state: RequestState, final: FinalResult): Promise<number> {
  let n = 0;
  for (const c of final.clip_list) {
    const manifest = state.tasks[taskKey('sample-frames', c.clip)]?.manifest;
    if (!manifest) continue;
    const { output } = await loadManifest(stack.store, 'sample-frames', manifest);
    n += output.frames.length;
  }
  return n;
}

/** LibriVox clips as videos: WER of what the pipeline heard, and whether a word query finds its word. */
async function speech(stack: Stack): Promise<string[]> {
  const clips = await librivoxClips();
  let errors = 0;
  let words = 0;
  const lines: string[] = [];
  for (const clip of clips) {
    const video = join(MEDIA_CACHE_DIR, `librivox-${clip.id}.mp4`);
    await exec('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=gray:s=320x240:r=10'],
      ...['-i', clip.wavPath, '-shortest', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', video],
    ]);
    await stack.store.put(`bench/${clip.id}.mp4`, await readFile(video));
    const state = await analyse(
      stack,
      `quality-speech-${clip.id.slice(-4)}`,
      `store://bench/${clip.id}.mp4`,
      {},
    );
    const heard = (await answer(stack, state, 'anything')).clip_list.map((c) => c.transcript ?? '').join(' ');
    const wer = wordErrorRate(clip.reference, heard);
    errors += wer.errors;
    words += wer.referenceWords;
    log(
      `quality[speech] ${clip.id}: WER ${wer.wer.toFixed(3)} (${wer.errors}/${wer.referenceWords}) heard "${heard.trim()}"`,
    );
    for (const item of truth.speech.items.filter((i) => i.clip === `${clip.id}.wav`)) {
      const found = (await answer(stack, state, `"${item.word}"`)).matches.length > 0;
      const verdict = found === item.spoken ? 'right' : 'wrong';
      log(
        `quality[speech] ${clip.id} "${item.word}" (${item.spoken ? 'spoken' : 'not spoken'}): ${found ? 'found' : 'not found'} — ${verdict}`,
      );
      lines.push(
        `quality[speech] word "${item.word}" in ${clip.id.slice(-4)}: ${found ? 'found' : 'not found'} (${verdict})`,
      );
    }
  }
  lines.unshift(
    `quality[speech] pooled WER ${(errors / words).toFixed(3)} over ${words} words in ${clips.length} LibriVox clips`,
  );
  return lines;
}
