import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestKeys } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { taskResults } from '../../common/manifests.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { segmentSpeech } from '../../functions/segment-speech/stage.js';
import { pcm16MonoWav, toneBursts } from '../helpers/media.js';

const params = resolveProfile('default').segment;
let dir: string;
let store: FolderStore;
const deps = () => ({
  store,
  logger: createLogger({ name: 'segment-test', level: 'silent' }),
  signal: new AbortController().signal,
  now: () => new Date(),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-segment-test-'));
  store = new FolderStore(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const inputOf = (id: string, durationS: number) => ({
  namespace: 'default',
  request_id: id,
  audio_key: requestKeys(id).input('audio.wav'),
  duration_s: durationS,
  params,
});

async function segment(id: string, samples: Int16Array, durationS: number) {
  const input = inputOf(id, durationS);
  await store.put(input.audio_key, pcm16MonoWav(samples));
  return (await runStageOnce(segmentSpeech, input, deps())).manifest.output;
}

describe('segment-speech stage', () => {
  it('finds tone bursts over a noise floor within one hop; a clip per burst, and clips of the time between', async () => {
    const bursts: Array<[number, number]> = [
      [1, 2.5],
      [6, 6.4],
      [10, 14],
    ];
    const out = await segment('req-seg-1', toneBursts(16, bursts, { noise: 0.001 }), 16);
    expect(out.no_speech).toBe(false);
    expect(out.speech).toHaveLength(3);
    out.speech.forEach(([s, e], i) => {
      expect(Math.abs(s - bursts[i]![0])).toBeLessThanOrEqual(0.05);
      expect(Math.abs(e - bursts[i]![1])).toBeLessThanOrEqual(0.05);
    });
    // [0, 2.75] (the first 0.75 s joined it) · [2.75, 5.2] silence · [5.2, 7.2] · [7.2, 9.75] silence · [9.75, 16].
    expect(out.clips.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
    expect(out.clips[0]!.start).toBe(0);
    expect(out.clips.at(-1)!.end).toBe(16);
    for (const [i, c] of out.clips.entries()) if (i > 0) expect(c.start).toBe(out.clips[i - 1]!.end);
    const holding = (t: number) => out.clips.findIndex((c) => c.start <= t && t < c.end);
    expect(bursts.map(([s]) => holding(s))).toEqual([0, 2, 4]);
    expect(out.clips[2]!.end - out.clips[2]!.start).toBeCloseTo(params.min_clip_s, 2);
  });

  it('merges pauses shorter than merge_gap_s into one segment', async () => {
    const out = await segment(
      'req-seg-2',
      toneBursts(
        8,
        [
          [1, 2],
          [2.3, 3],
        ],
        { noise: 0.001 },
      ),
      8,
    );
    expect(out.speech).toHaveLength(1);
    // The speech clip (with the 0.75 s before it) and the silence after it.
    expect(out.clips).toHaveLength(2);
    expect(out.clips[0]!.start).toBe(0);
    expect(out.clips[0]!.end).toBeCloseTo(3.25, 1);
    expect(out.clips[1]!.start).toBe(out.clips[0]!.end);
    expect(out.clips[1]!.end).toBe(8);
  });

  it('is deterministic: the same WAV gives the same output', async () => {
    const samples = toneBursts(10, [[2, 5]], { noise: 0.003 });
    expect(await segment('req-seg-3a', samples, 10)).toEqual(await segment('req-seg-3b', samples, 10));
  });

  it('no speech (silence, or only a faint noise floor) → fixed windows over the whole duration', async () => {
    for (const [id, samples] of [
      ['req-seg-4a', new Int16Array(16_000 * 25)],
      ['req-seg-4b', toneBursts(25, [], { noise: 0.001 })],
    ] as const) {
      const out = await segment(id, samples, 25);
      expect(out.no_speech).toBe(true);
      expect(out.speech).toEqual([]);
      expect(out.clips).toEqual([
        { index: 0, start: 0, end: 10 },
        { index: 1, start: 10, end: 20 },
        { index: 2, start: 20, end: 25 },
      ]);
    }
  });

  it('a zero duration is EMPTY_INPUT and writes no manifest', async () => {
    await expect(segment('req-seg-5', new Int16Array(100), 0)).rejects.toMatchObject({
      code: 'EMPTY_INPUT',
      retryable: false,
    });
    const { keys } = taskResults('segment-speech', inputOf('req-seg-5', 0))!;
    expect(await store.head(keys.manifest)).toBeUndefined();
  });
});
