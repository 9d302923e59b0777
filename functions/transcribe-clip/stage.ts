import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPcm16Mono, readWavInfo } from '../../common/audio/wav.js';
import type { Word } from '../../common/contracts/stages.js';
import { defineStage } from '../../common/stage.js';
import type { Transcriber } from './transcriber.js';

/** The format every engine here is given: 16 kHz mono 16-bit PCM, what transcode-clip writes. */
export const SPEECH_SAMPLE_RATE = 16_000;

export interface TranscribeDeps {
  transcriber: Transcriber;
  /** Parent of the per-call temp dir; default the OS temp dir. */
  tmpDir?: string | undefined;
}

/**
 * transcribe-clip: the clip's 16 kHz mono WAV → text with word timings
 * (clip-relative seconds). Silence gives `no_speech: true`, empty text and no
 * words — never a placeholder.
 */
export const transcribeClip = defineStage<'transcribe-clip', TranscribeDeps>({
  name: 'transcribe-clip',
  async run(input, deps) {
    const audio = await deps.store.getBytes(input.audio_key);
    const wav = readWavInfo(audio);
    assertPcm16Mono(wav, SPEECH_SAMPLE_RATE);
    const silent = {
      clip: input.clip,
      engine: deps.transcriber.engine,
      text: '',
      words: [],
      no_speech: true,
    };
    if (wav.dataBytes === 0) return silent;

    const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'clipseek-transcribe-'));
    try {
      const wavPath = join(dir, 'clip.wav');
      await writeFile(wavPath, audio);
      const heard = await deps.transcriber.transcribe(wavPath, {
        signal: deps.signal,
        language: input.params.language,
      });
      const words = tidyWords(heard.words, wav.durationS);
      deps.logger.info({ clip: input.clip, engine: heard.engine, words: words.length }, 'transcribed');
      if (words.length === 0) return { ...silent, engine: heard.engine };
      const text = heard.text.trim() || words.map((w) => w.word).join(' ');
      return { clip: input.clip, engine: heard.engine, text, words, no_speech: false };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});

/** Words inside the clip, in time order, end never before start. */
export function tidyWords(words: readonly Word[], durationS: number): Word[] {
  const clamp = (t: number) => Math.min(durationS, Math.max(0, t));
  return words
    .filter((w) => w.word.trim() !== '' && Number.isFinite(w.start) && Number.isFinite(w.end))
    .map((w) => {
      const start = clamp(w.start);
      const out: Word = { word: w.word.trim(), start, end: Math.max(start, clamp(w.end)) };
      if (w.confidence !== undefined) out.confidence = Math.min(1, Math.max(0, w.confidence));
      return out;
    })
    .sort((a, b) => a.start - b.start || a.end - b.end);
}
