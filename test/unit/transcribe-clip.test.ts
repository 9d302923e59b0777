import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipseekError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { runStageOnce } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { createTranscriberFromEnv } from '../../functions/transcribe-clip/engines.js';
import { HttpTranscriber } from '../../functions/transcribe-clip/http-transcriber.js';
import {
  PocketsphinxTranscriber,
  parsePocketsphinxTimes,
} from '../../functions/transcribe-clip/pocketsphinx.js';
import { tidyWords, transcribeClip } from '../../functions/transcribe-clip/stage.js';
import type { TranscribeOptions, Transcriber } from '../../functions/transcribe-clip/transcriber.js';
import { silentPcmWav as wav } from '../helpers/wav.js';

// Real `pocketsphinx_continuous -time yes` output (two utterances; times are from the file start).
const POCKETSPHINX_STDOUT = `he was not an illness those young man
<s> 0.000 0.060 0.999800
<sil> 0.070 0.200 0.687741
he 0.210 0.320 0.998900
was(2) 0.330 0.540 0.999800
[SPEECH] 0.980 1.100 0.539468
an(2) 1.110 1.290 0.458044
</s> 2.800 3.090 1.000000
he might even have been
<s> 4.380 4.700 1.000000
++NOISE++ 4.700 4.705 0.5
even 5.130 5.410 1.000100
</s> 7.520 7.770 1.000000
`;

describe('parsePocketsphinxTimes', () => {
  it('keeps words with times, drops markers and fillers, strips alternative-pronunciation suffixes', () => {
    expect(parsePocketsphinxTimes(POCKETSPHINX_STDOUT)).toEqual([
      { word: 'he', start: 0.21, end: 0.32, confidence: 0.9989 },
      { word: 'was', start: 0.33, end: 0.54, confidence: 0.9998 },
      { word: 'an', start: 1.11, end: 1.29, confidence: 0.458044 },
      { word: 'even', start: 5.13, end: 5.41, confidence: 1 },
    ]);
  });

  it('finds nothing in output without timed words', () => {
    expect(parsePocketsphinxTimes('')).toEqual([]);
    expect(parsePocketsphinxTimes('<s> 0.000 0.760 1.000000\n</s> 0.770 0.860 1.000000\n')).toEqual([]);
  });
});

describe('tidyWords', () => {
  it('sorts, keeps times inside the clip and never lets a word end before it starts', () => {
    const words = tidyWords(
      [
        { word: 'late', start: 4.5, end: 6 },
        { word: ' early ', start: -0.2, end: 0.3, confidence: 1.2 },
        { word: '  ', start: 1, end: 2 },
        { word: 'odd', start: 2, end: 1 },
      ],
      5,
    );
    expect(words).toEqual([
      { word: 'early', start: 0, end: 0.3, confidence: 1 },
      { word: 'odd', start: 2, end: 2 },
      { word: 'late', start: 4.5, end: 5 },
    ]);
  });
});

describe('transcribe-clip stage (fake engine)', () => {
  let root: string;
  let tmp: string;
  let store: FolderStore;
  const logger = createLogger({ name: 'test', level: 'silent' });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'clipseek-transcribe-unit-'));
    tmp = join(root, 'tmp');
    await mkdir(tmp);
    store = new FolderStore(join(root, 'bucket'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  class FakeTranscriber implements Transcriber {
    readonly engine = 'fake';
    readonly calls: Array<{ wavPath: string; options: TranscribeOptions; bytes: number }> = [];
    constructor(
      private readonly answer: { text: string; words: { word: string; start: number; end: number }[] },
    ) {}
    async transcribe(wavPath: string, options: TranscribeOptions) {
      const { size } = await stat(wavPath);
      this.calls.push({ wavPath, options, bytes: size });
      return { engine: this.engine, ...this.answer };
    }
  }

  const input = (clip: number, audio_key: string) => ({
    namespace: 'default',
    request_id: 'r_unit',
    clip,
    audio_key,
    params: { language: 'en-us' },
  });
  const deps = (transcriber: Transcriber) => ({
    transcriber,
    tmpDir: tmp,
    store,
    logger,
    signal: new AbortController().signal,
    now: () => new Date('2030-01-01T00:00:00Z'),
  });

  it('hands the engine the WAV and returns its words, clipped to the audio, in a manifest', async () => {
    await store.put('requests/r_unit/transcode-clip/0001/audio.wav', wav({ seconds: 3 }));
    const fake = new FakeTranscriber({
      text: 'hello there',
      words: [
        { word: 'there', start: 1.2, end: 3.4 },
        { word: 'hello', start: 0.4, end: 1 },
      ],
    });
    const { manifest } = await runStageOnce(
      transcribeClip,
      input(1, 'requests/r_unit/transcode-clip/0001/audio.wav'),
      deps(fake),
    );
    expect(manifest.output).toEqual({
      clip: 1,
      engine: 'fake',
      text: 'hello there',
      words: [
        { word: 'hello', start: 0.4, end: 1 },
        { word: 'there', start: 1.2, end: 3 },
      ],
      no_speech: false,
    });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.options.language).toBe('en-us');
    expect(fake.calls[0]!.options.signal).toBeInstanceOf(AbortSignal);
    expect(fake.calls[0]!.bytes).toBe(wav({ seconds: 3 }).length);
    expect(await readdir(tmp)).toEqual([]); // the per-call temp dir is gone
  });

  it('records no speech as such: empty text, no words, no_speech', async () => {
    await store.put('requests/r_unit/transcode-clip/0002/audio.wav', wav({ seconds: 1 }));
    const fake = new FakeTranscriber({ text: '  ', words: [] });
    const { manifest } = await runStageOnce(
      transcribeClip,
      input(2, 'requests/r_unit/transcode-clip/0002/audio.wav'),
      deps(fake),
    );
    expect(manifest.output).toEqual({ clip: 2, engine: 'fake', text: '', words: [], no_speech: true });
  });

  it('does not call the engine for a WAV without samples', async () => {
    await store.put('requests/r_unit/transcode-clip/0003/audio.wav', wav({ seconds: 0 }));
    const fake = new FakeTranscriber({ text: 'never', words: [{ word: 'never', start: 0, end: 1 }] });
    const { manifest } = await runStageOnce(
      transcribeClip,
      input(3, 'requests/r_unit/transcode-clip/0003/audio.wav'),
      deps(fake),
    );
    expect(manifest.output.no_speech).toBe(true);
    expect(fake.calls).toHaveLength(0);
  });

  it('refuses audio in the wrong format before running the engine', async () => {
    await store.put('requests/r_unit/transcode-clip/0004/audio.wav', wav({ rate: 44_100 }));
    const fake = new FakeTranscriber({ text: '', words: [] });
    await expect(
      runStageOnce(transcribeClip, input(4, 'requests/r_unit/transcode-clip/0004/audio.wav'), deps(fake)),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_AUDIO_FORMAT', status: 422 });
    expect(fake.calls).toHaveLength(0);
  });
});

describe('engine choice and engine errors', () => {
  it('uses pocketsphinx unless TRANSCRIBE_URL is set', () => {
    expect(createTranscriberFromEnv({})).toBeInstanceOf(PocketsphinxTranscriber);
    expect(createTranscriberFromEnv({ TRANSCRIBE_URL: '' })).toBeInstanceOf(PocketsphinxTranscriber);
    const http = createTranscriberFromEnv({
      TRANSCRIBE_URL: 'http://127.0.0.1:9/',
      TRANSCRIBE_MODEL: 'small.en',
    });
    expect(http).toBeInstanceOf(HttpTranscriber);
    expect(http.engine).toBe('openai-compatible:small.en');
  });

  it('rejects a bad TRANSCRIBE_URL at start-up', () => {
    expect(() => createTranscriberFromEnv({ TRANSCRIBE_URL: 'ftp://example.org' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('pocketsphinx refuses languages it has no model for', async () => {
    await expect(
      new PocketsphinxTranscriber().transcribe('/nonexistent.wav', { language: 'de' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_LANGUAGE',
      retryable: false,
    });
  });

  it('a missing binary or model is TRANSCRIBER_UNAVAILABLE, not retryable', async () => {
    const noBinary = new PocketsphinxTranscriber({ binary: '/nonexistent/pocketsphinx_continuous' });
    const noModel = new PocketsphinxTranscriber({ modelDir: '/nonexistent/model' });
    for (const engine of [noBinary, noModel]) {
      const err = await engine.transcribe('/nonexistent.wav', { language: 'en-us' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClipseekError);
      expect(err).toMatchObject({ code: 'TRANSCRIBER_UNAVAILABLE', retryable: false });
    }
  });
});
