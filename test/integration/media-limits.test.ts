/**
 * The media limits checked against what files really hold, with real ffmpeg:
 * ffprobe's output read with bounded memory, cut-clips' keyframe listing
 * bounded by packets and by the declared duration, and frames larger than
 * the limit refused by the decoder (-max_pixels) with MEDIA_LIMITS_EXCEEDED.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentEndS, MEDIA_LIMITS } from '../../common/ffmpeg/limits.js';
import { keyframeTimes } from '../../common/ffmpeg/packets.js';
import { createFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { requestKeys } from '../../common/keys.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { cutClips } from '../../functions/cut-clips/stage.js';
import { sampleFrames } from '../../functions/sample-frames/stage.js';
import { transcodeClip } from '../../functions/transcode-clip/stage.js';
import { manyPacketsMkv, oversizedFrameMkv } from '../helpers/hostile-inputs.js';
import { videoWithoutAudio } from '../helpers/media.js';
import { listKeys, type MediaStageHarness, mediaStageHarness } from '../helpers/media-stages.js';

/** A lowered packet limit: the same path as millions of packets, in a fraction of a second. */
const PACKET_LIMIT = 10_000;
const SECONDS = 50; // × 240 fps = 12 000 packets

let h: MediaStageHarness;
let files: string;
let manyPackets: string;
let understated: string;

beforeAll(async () => {
  h = await mediaStageHarness();
  files = join(h.dir, 'files');
  await mkdir(files);
  manyPackets = await manyPacketsMkv(files, 'many-packets.mkv', SECONDS);
  understated = await manyPacketsMkv(files, 'understated.mkv', SECONDS, 5);
});
afterAll(() => h.cleanup());

async function upload(id: string, path: string): Promise<string> {
  const key = requestKeys(id).input('source.mkv');
  await h.store.put(key, await readFile(path));
  return key;
}

/** Runs `run`, expects MEDIA_LIMITS_EXCEEDED (non-retryable, 422) and nothing new in the bucket. */
async function expectLimitsExceeded(run: () => Promise<unknown>) {
  const before = await listKeys(h.store, '');
  const error = await run().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toMatchObject({ code: 'MEDIA_LIMITS_EXCEEDED', status: 422, retryable: false });
  expect(await listKeys(h.store, '')).toEqual(before);
  return error as { details: Record<string, unknown> };
}

describe('ffprobe output is read with bounded memory', () => {
  it('probe refuses a file whose description passes maxOutputChars, stopping ffprobe', async () => {
    const started = Date.now();
    const error = await h.ffmpeg
      .probe(manyPackets, { args: ['-show_packets'], maxOutputChars: 64 * 1024 })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'MEDIA_LIMITS_EXCEEDED', retryable: false });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('probeLines hands over whole lines as they come, and stops ffprobe when its consumer throws', async () => {
    const lines: string[] = [];
    await h.ffmpeg.probeLines(manyPackets, {
      args: ['-select_streams', '0', '-show_entries', 'packet=pts_time'],
      onLine: (line) => lines.push(line),
    });
    expect(lines).toHaveLength(SECONDS * 240);
    expect(lines.every((line) => /^pts_time=\d+\.\d{6}$/.test(line))).toBe(true);

    let seen = 0;
    const stop = new Error('enough');
    const error = await h.ffmpeg
      .probeLines(manyPackets, {
        args: ['-select_streams', '0', '-show_entries', 'packet=pts_time'],
        onLine: () => {
          seen += 1;
          if (seen === 100) throw stop;
        },
      })
      .catch((err: unknown) => err);
    expect(error).toBe(stop);
    expect(seen).toBe(100);
  });

  it('keyframeTimes keeps only the keyframes of a long listing', async () => {
    const keyframes = await keyframeTimes(h.ffmpeg, manyPackets, {
      streamIndex: 0,
      endS: SECONDS + 1,
      maxPackets: MEDIA_LIMITS.maxVideoPackets,
    });
    expect(keyframes).toEqual(Array.from({ length: SECONDS }, (_, i) => i));
  });
});

describe('cut-clips: the keyframe listing is bounded by what the video really holds', () => {
  const clips = [{ index: 0, start: 1, end: 3 }];

  it(`more than ${PACKET_LIMIT} video packets (the limit lowered for the test) → MEDIA_LIMITS_EXCEEDED`, async () => {
    const id = 'req-limits-packets';
    const sourceKey = await upload(id, manyPackets);
    const limits = { ...MEDIA_LIMITS, maxVideoPackets: PACKET_LIMIT };
    const error = await expectLimitsExceeded(() =>
      runStageOnce(
        cutClips,
        { namespace: 'default', request_id: id, source_key: sourceKey, clips },
        { ...h.deps(), limits },
      ),
    );
    expect(error.details).toMatchObject({ max_packets: PACKET_LIMIT });

    // Control: within the default limits the same file is cut.
    const { manifest } = await runStageOnce(
      cutClips,
      { namespace: 'default', request_id: id, source_key: sourceKey, clips },
      h.deps(),
    );
    expect(manifest.output.pieces).toHaveLength(1);
  });

  it('video far past the duration its header declares → MEDIA_LIMITS_EXCEEDED, without reading it all', async () => {
    const id = 'req-limits-understated';
    const sourceKey = await upload(id, understated);
    const error = await expectLimitsExceeded(() =>
      runStageOnce(
        cutClips,
        { namespace: 'default', request_id: id, source_key: sourceKey, clips },
        h.deps(),
      ),
    );
    // Stopped soon after the declared 5 s, not at the end (50 s): by the packet budget of
    // 5 s (+ slack) at 240 fps, or at the first packet past them, whichever comes first.
    const { packet_time_s, max_packets } = error.details as { packet_time_s?: number; max_packets?: number };
    expect(packet_time_s ?? (max_packets ?? Number.POSITIVE_INFINITY) / 240).toBeLessThan(10);
  });
});

describe('frames larger than the limit are refused by the decoder', () => {
  it('transcode-clip: one 8000×8000 frame among 64×48 ones (the header says 64×48) → MEDIA_LIMITS_EXCEEDED', async () => {
    const id = 'req-limits-big-frame';
    const pieceKey = requestKeys(id).input('piece-0000.mkv');
    await h.store.put(pieceKey, await readFile(await oversizedFrameMkv(files, 'middle')));
    const input = {
      namespace: 'default',
      request_id: id,
      clip: 0,
      piece_key: pieceKey,
      piece_timestamp_s: 0,
      has_audio: false,
      offset_s: 0,
      duration_s: 3.5,
      params: resolveProfile('fast').transcode,
    };
    const error = await expectLimitsExceeded(() => runStageOnce(transcodeClip, input, h.deps()));
    expect(error.details).toMatchObject({ frame_width: 8000, frame_height: 8000, max_pixels: 7680 * 4320 });
  });

  it('the pixel limit is a runner option: lowered below a plain 320×240 video, it refuses that too', async () => {
    const small = createFfmpegRunner({ env: {}, tmpDir: h.dir, maxPixels: 320 * 240 - 1 });
    const video = await videoWithoutAudio({ durationS: 1 });
    await expect(small.run(['-i', video, '-f', 'null', '-'])).rejects.toMatchObject({
      code: 'MEDIA_LIMITS_EXCEEDED',
      details: { frame_width: 320, frame_height: 240 },
    });
    await expect(h.ffmpeg.run(['-i', video, '-f', 'null', '-'])).resolves.toBeDefined();
  });
});

describe('decoding stops at the duration accepted', () => {
  it('sample-frames samples no further than the duration it is given, whatever the file holds', async () => {
    const id = 'req-limits-sample';
    const key = requestKeys(id).input('clip.mp4');
    await h.store.put(key, await readFile(await videoWithoutAudio({ durationS: 12 })));
    const params = { ...resolveProfile('default').frames, fps: 2 };
    const { manifest } = await runStageOnce(
      sampleFrames,
      { namespace: 'default', request_id: id, clip: 0, video_key: key, duration_s: 1, params },
      h.deps(),
    );
    expect(manifest.output.frames.length).toBeLessThanOrEqual(Math.ceil(contentEndS(1) * params.fps) + 1);
  });
});
