/**
 * extract-audio against real ffmpeg: the silent-track fallback, every kind of
 * bad input with its stable code (and nothing written), and idempotency.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipseekError } from '../../common/errors.js';
import { requestKeys } from '../../common/keys.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { extractAudio } from '../../functions/extract-audio/stage.js';
import { segmentSpeech } from '../../functions/segment-speech/stage.js';
import { longAudioShortHeaderMkv, manyPacketsMkv, oversizedFrameMkv } from '../helpers/hostile-inputs.js';
import {
  audioOnlyFile,
  concatList,
  ffprobeJson,
  hlsPlaylist,
  oversizedVideo,
  speechVideo,
  textAsMp4,
  transportStreamSegment,
  truncatedMp4,
  videoWithoutAudio,
  zeroByteFile,
} from '../helpers/media.js';
import {
  countingRunner,
  listKeys,
  type MediaStageHarness,
  mediaStageHarness,
} from '../helpers/media-stages.js';

let h: MediaStageHarness;
let files: string;

beforeAll(async () => {
  h = await mediaStageHarness();
  files = join(h.dir, 'files');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(files);
});
afterAll(() => h.cleanup());

/** Puts `path` at requests/{id}/input/<name> and returns the key. */
async function upload(requestId: string, path: string, name = 'source.mp4'): Promise<string> {
  const key = requestKeys(requestId).input(name);
  await h.store.put(key, await readFile(path));
  return key;
}

describe('extract-audio: a video without an audio track', () => {
  it('writes a silent 16 kHz mono track of the video length and reports has_audio=false', async () => {
    const id = 'req-noaudio';
    const key = await upload(id, await videoWithoutAudio({ durationS: 6 }));
    const { manifest } = await runStageOnce(
      extractAudio,
      { namespace: 'default', request_id: id, source_key: key },
      h.deps(),
    );
    expect(manifest.output.has_audio).toBe(false);
    expect(manifest.output.probe.audio).toBeNull();
    const wav = join(h.dir, 'silent.wav');
    await writeFile(wav, await h.store.getBytes(manifest.output.audio_key));
    const probe = await ffprobeJson<{ streams: Array<Record<string, unknown>> }>(wav, ['-show_streams']);
    expect(probe.streams[0]).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '16000', channels: 1 });
    expect(Number(probe.streams[0]!.duration)).toBeCloseTo(6, 2);

    // …and segment-speech then covers the whole silent video with fixed windows.
    const params = { ...resolveProfile('default').segment, fallback_clip_s: 4, min_clip_s: 1 };
    const segmented = await runStageOnce(
      segmentSpeech,
      {
        namespace: 'default',
        request_id: id,
        audio_key: manifest.output.audio_key,
        duration_s: manifest.output.probe.duration_s,
        params,
      },
      h.deps(),
    );
    expect(segmented.manifest.output.no_speech).toBe(true);
    expect(segmented.manifest.output.clips).toEqual([
      { index: 0, start: 0, end: 4 },
      { index: 1, start: 4, end: 6 },
    ]);
  });
});

describe('extract-audio: bad inputs fail with a stable, non-retryable code and write nothing', () => {
  const cases: Array<{ name: string; code: string; make: () => Promise<string> }> = [
    { name: 'a zero-byte file', code: 'EMPTY_INPUT', make: () => zeroByteFile(files) },
    {
      name: 'an MP4 cut short (index lost)',
      code: 'UNREADABLE_MEDIA',
      make: () => truncatedMp4(files, 'default'),
    },
    {
      name: 'an MP4 cut short (faststart: opens, then runs out)',
      code: 'UNREADABLE_MEDIA',
      make: () => truncatedMp4(files, 'faststart'),
    },
    { name: 'a text file named .mp4', code: 'UNSUPPORTED_FORMAT', make: () => textAsMp4(files) },
    { name: 'an audio-only file', code: 'NO_VIDEO_STREAM', make: () => audioOnlyFile() },
    {
      name: 'an HLS playlist pointing at file:///etc/passwd',
      code: 'UNSUPPORTED_FORMAT',
      make: () => hlsPlaylist(files, 'file:///etc/passwd'),
    },
    {
      name: 'an HLS playlist pointing at a real local video segment',
      code: 'UNSUPPORTED_FORMAT',
      make: async () => hlsPlaylist(files, await transportStreamSegment(files), 'local-playlist.mp4'),
    },
    {
      name: 'a concat list pointing at a local file',
      code: 'UNSUPPORTED_FORMAT',
      make: async () => concatList(files, await transportStreamSegment(files, 'concat-part.ts')),
    },
    { name: 'a video wider than 8K', code: 'MEDIA_LIMITS_EXCEEDED', make: () => oversizedVideo() },
    {
      name: 'a minute of audio behind a header that declares 1 s',
      code: 'MEDIA_LIMITS_EXCEEDED',
      make: () => longAudioShortHeaderMkv(files),
    },
    {
      name: '30 s of video behind a header that declares 2 s',
      code: 'MEDIA_LIMITS_EXCEEDED',
      make: () => manyPacketsMkv(files, 'understated.mkv', 30, 2),
    },
    {
      name: 'an 8000×8000 frame behind a 64×48 header',
      code: 'MEDIA_LIMITS_EXCEEDED',
      make: () => oversizedFrameMkv(files, 'first'),
    },
  ];

  cases.forEach(({ name, code, make }, i) => {
    it(`${name} → ${code}`, async () => {
      const id = `req-bad-${i}`;
      const key = await upload(id, await make());
      const before = await listKeys(h.store, '');
      const error = await runStageOnce(
        extractAudio,
        { namespace: 'default', request_id: id, source_key: key },
        h.deps(),
      ).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ClipseekError);
      expect(error).toMatchObject({ code, retryable: false });
      expect((error as ClipseekError).status).toBeGreaterThanOrEqual(400);
      expect((error as ClipseekError).status).toBeLessThan(500);
      expect(JSON.stringify((error as ClipseekError).details)).not.toContain('root:x:0:0');
      expect(await listKeys(h.store, '')).toEqual(before);
    });
  });

  it('a missing source is NOT_FOUND-like (404) and writes nothing', async () => {
    const id = 'req-missing';
    const before = await listKeys(h.store, '');
    const error = await runStageOnce(
      extractAudio,
      { namespace: 'default', request_id: id, source_key: requestKeys(id).input('nothing.mp4') },
      h.deps(),
    ).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'SOURCE_NOT_FOUND', status: 404, retryable: false });
    expect(await listKeys(h.store, '')).toEqual(before);
  });
});

describe('extract-audio: idempotency', () => {
  it('a second call with the same input, from any request, returns the same manifest and starts no ffmpeg', async () => {
    const id = 'req-idem';
    const key = await upload(id, (await speechVideo()).path);
    const counter = countingRunner(h.ffmpeg);
    const first = await runStageOnce(
      extractAudio,
      { namespace: 'default', request_id: id, source_key: key },
      h.deps(counter.runner),
    );
    expect(first.reused).toBe(false);
    const afterFirst = counter.calls();
    expect(afterFirst).toBeGreaterThan(0);
    const keysAfterFirst = await listKeys(h.store, '');

    const second = await runStageOnce(
      extractAudio,
      { namespace: 'default', request_id: id, source_key: key },
      h.deps(counter.runner),
    );
    expect(second.reused).toBe(true);
    expect(second.manifest).toEqual(first.manifest);
    expect(counter.calls()).toBe(afterFirst);
    expect(await listKeys(h.store, '')).toEqual(keysAfterFirst);

    // Another request on the same source shares the results: the same manifest, no ffmpeg.
    const other = await runStageOnce(
      extractAudio,
      { namespace: 'default', request_id: 'req-idem-other', source_key: key },
      h.deps(counter.runner),
    );
    expect(other).toEqual({ manifest: first.manifest, reused: true });
    expect(counter.calls()).toBe(afterFirst);
  });
});
