/**
 * transcribe-clip on Debian's pocketsphinx with real audio: recorded LibriVox
 * speech with reference transcripts, espeak-ng speech from a fixed script,
 * and silence. Prints the word error rate of each; the bars below were set
 * from what the engine achieves here (see the numbers in the test output).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavInfo } from '../../common/audio/wav.js';
import type { StageOutput, Word } from '../../common/contracts/stages.js';
import { clipId } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { runStageOnce } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { PocketsphinxTranscriber } from '../../functions/transcribe-clip/pocketsphinx.js';
import { transcribeClip } from '../../functions/transcribe-clip/stage.js';
import {
  espeakWav,
  librivoxClips,
  type ReferenceClip,
  silentWav,
  werWords,
  wordErrorRate,
} from '../helpers/speech.js';

const SCRIPT =
  'The city council met on Monday to discuss the budget for next year. ' +
  'The mayor said that the new park will open in the spring. ' +
  'Several people asked about the cost of the bridge and the water supply.';
/** The script's content words: what a search would look for. */
const SCRIPT_CONTENT_WORDS = [
  'city',
  'council',
  'met',
  'monday',
  'discuss',
  'budget',
  'next',
  'year',
  'mayor',
  'new',
  'park',
  'open',
  'spring',
  'several',
  'people',
  'asked',
  'cost',
  'bridge',
  'water',
  'supply',
];

// Measured on Debian 12's pocketsphinx 5prealpha + en-us model: pooled LibriVox WER 0.366
// (26/71 words); espeak-ng script WER 0.237 with 14/20 content words found. Bars a bit below.
const MAX_LIBRIVOX_WER = 0.45;
const MAX_ESPEAK_WER = 0.35;
const MIN_ESPEAK_CONTENT_RECALL = 0.6;

const logger = createLogger({ name: 'test', level: 'silent' });
let root: string;
let store: FolderStore;
const transcriber = new PocketsphinxTranscriber();
const limit = pLimit(2);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clipseek-transcribe-'));
  store = new FolderStore(join(root, 'bucket'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Puts the WAV where transcode-clip would and runs the stage on it. */
async function transcribe(clip: number, wavPath: string): Promise<StageOutput<'transcribe-clip'>> {
  const audioKey = `requests/r_asr/transcode-clip/${clipId(clip)}/audio.wav`;
  await store.put(audioKey, await readFile(wavPath));
  const { manifest } = await runStageOnce(
    transcribeClip,
    { namespace: 'default', request_id: 'r_asr', clip, audio_key: audioKey, params: { language: 'en-us' } },
    {
      transcriber,
      store,
      logger,
      signal: new AbortController().signal,
      now: () => new Date(),
    },
  );
  return manifest.output;
}

async function durationOf(wavPath: string): Promise<number> {
  return readWavInfo(await readFile(wavPath)).durationS;
}

function expectTimingsOrderedInside(words: readonly Word[], durationS: number): void {
  let previousStart = 0;
  for (const w of words) {
    expect(w.start).toBeGreaterThanOrEqual(previousStart);
    expect(w.end).toBeGreaterThanOrEqual(w.start);
    expect(w.end).toBeLessThanOrEqual(durationS);
    previousStart = w.start;
  }
}

describe('transcribe-clip with pocketsphinx', () => {
  it('transcribes recorded LibriVox speech with a low word error rate', async () => {
    const clips: ReferenceClip[] = await librivoxClips();
    expect(clips.length).toBeGreaterThanOrEqual(5);
    // Two engines at a time: one per core.
    const outputs = await Promise.all(clips.map((ref, i) => limit(() => transcribe(i, ref.wavPath))));
    let errors = 0;
    let referenceWords = 0;
    for (const [i, ref] of clips.entries()) {
      const out = outputs[i]!;
      const score = wordErrorRate(ref.reference, out.text);
      errors += score.errors;
      referenceWords += score.referenceWords;
      console.log(
        `[asr] LibriVox ${ref.id}: WER ${score.wer.toFixed(2)} (${score.errors}/${score.referenceWords})\n` +
          `      ref: ${ref.reference}\n      hyp: ${out.text}`,
      );
      expect(out.engine).toBe('pocketsphinx-en-us');
      expect(out.no_speech).toBe(false);
      expect(out.text).toBe(out.words.map((w) => w.word).join(' '));
      expectTimingsOrderedInside(out.words, await durationOf(ref.wavPath));
    }
    const pooled = errors / referenceWords;
    console.log(
      `[asr] LibriVox pooled WER ${pooled.toFixed(3)} over ${referenceWords} words (bar ${MAX_LIBRIVOX_WER})`,
    );
    expect(pooled).toBeLessThanOrEqual(MAX_LIBRIVOX_WER);
  });

  it('transcribes espeak-ng speech from a fixed script, finding most content words', async () => {
    const wavPath = join(root, 'script.wav');
    await espeakWav(SCRIPT, wavPath);
    const out = await transcribe(10, wavPath);
    const score = wordErrorRate(SCRIPT, out.text);
    const heard = new Set(werWords(out.text));
    const found = SCRIPT_CONTENT_WORDS.filter((w) => heard.has(w));
    const recall = found.length / SCRIPT_CONTENT_WORDS.length;
    console.log(
      `[asr] espeak-ng script: WER ${score.wer.toFixed(3)} (${score.errors}/${score.referenceWords}), ` +
        `content words ${found.length}/${SCRIPT_CONTENT_WORDS.length} (bar ${MIN_ESPEAK_CONTENT_RECALL})\n` +
        `      hyp: ${out.text}`,
    );
    expect(score.wer).toBeLessThanOrEqual(MAX_ESPEAK_WER);
    expect(recall).toBeGreaterThanOrEqual(MIN_ESPEAK_CONTENT_RECALL);
    const duration = await durationOf(wavPath);
    expectTimingsOrderedInside(out.words, duration);
    // The words are spread over the whole clip, not bunched at one end.
    expect(out.words[0]!.start).toBeLessThan(duration * 0.2);
    expect(out.words.at(-1)!.end).toBeGreaterThan(duration * 0.8);
  });

  it('a silent clip gives an empty transcript, not an error', async () => {
    const wavPath = join(root, 'silence.wav');
    await silentWav(wavPath, 3);
    const out = await transcribe(20, wavPath);
    expect(out).toEqual({ clip: 20, engine: 'pocketsphinx-en-us', text: '', words: [], no_speech: true });
  });

  it('kills the engine when cancelled or past its timeout', async () => {
    const wavPath = join(root, 'long.wav');
    await espeakWav(`${SCRIPT} ${SCRIPT} ${SCRIPT}`, wavPath);
    const controller = new AbortController();
    const cancelled = transcriber.transcribe(wavPath, { language: 'en-us', signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });

    const hurried = new PocketsphinxTranscriber({ timeoutMs: 100 });
    await expect(hurried.transcribe(wavPath, { language: 'en-us' })).rejects.toMatchObject({
      code: 'TRANSCRIBE_TIMEOUT',
      retryable: true,
    });
  });
});
