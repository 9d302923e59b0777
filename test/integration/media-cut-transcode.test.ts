/**
 * cut-clips + transcode-clip on the same video in five containers: MP4 (cut
 * into .mov pieces), MPEG-TS (timestamps starting near 1.4 s, no seek index),
 * Matroska (cut into .mkv pieces) and, re-encoded, AVI with B-frames and so
 * without presentation times: an old DivX one (packed B-frames; its video
 * starts 0.1 s in, after the encoder's delay) and MPEG-2. Keyframes are 250
 * frames apart, so any keyframe rounding would show up as seconds of error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipBoundary } from '../../common/contracts/stages.js';
import { requestKeys } from '../../common/keys.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { cutClips } from '../../functions/cut-clips/stage.js';
import { transcodeInputOf } from '../../functions/orchestrator/dag.js';
import { sampleFrames } from '../../functions/sample-frames/stage.js';
import { transcodeClip } from '../../functions/transcode-clip/stage.js';
import {
  ffprobeJson,
  firstFrameAtOrAfter,
  locateFrames,
  mpeg2Avi,
  packedDivxAvi,
  remuxed,
  type SpeechVideo,
  speechVideo,
  videoWithoutAudio,
} from '../helpers/media.js';
import { listKeys, type MediaStageHarness, mediaStageHarness } from '../helpers/media-stages.js';

// Around the keyframe at 8.333 s: starting on the very first frame, just before a
// keyframe, just after one, and running to the end of the video.
const CLIPS: ClipBoundary[] = [
  { index: 0, start: 0, end: 2 },
  { index: 1, start: 8.2, end: 9.5 },
  { index: 2, start: 8.4, end: 10.1 },
  { index: 3, start: 12.05, end: 16 },
];

let h: MediaStageHarness;
let video: SpeechVideo;
beforeAll(async () => {
  h = await mediaStageHarness();
  video = await speechVideo();
});
afterAll(() => h.cleanup());

const containers = [
  { name: 'mp4', pieceExt: '.mov', source: async () => video.path },
  { name: 'mpegts', pieceExt: '.mkv', source: () => remuxed(video.path, 'mpegts', 'm2t') },
  { name: 'matroska', pieceExt: '.mkv', source: () => remuxed(video.path, 'matroska', 'mkv') },
  { name: 'divx-avi', pieceExt: '.mkv', source: () => packedDivxAvi(video.path) },
  { name: 'mpeg2-avi', pieceExt: '.mkv', source: () => mpeg2Avi(video.path) },
];

describe.each(containers)('$name source', ({ name, pieceExt, source }) => {
  it('pieces start on a keyframe before each clip; renditions start and last within one frame', async () => {
    const path = await source();
    const id = `req-cut-${name}`;
    const sourceKey = requestKeys(id).input('source');
    await h.store.put(sourceKey, await readFile(path));
    const { pieces } = (
      await runStageOnce(
        cutClips,
        { namespace: 'default', request_id: id, source_key: sourceKey, clips: CLIPS },
        h.deps(),
      )
    ).manifest.output;

    // Source time 0 is the container's start; in MPEG-TS and the AVI the first video frame comes a
    // little later. Where ffmpeg shows it, decoded (an AVI's stream start_time says 0 regardless).
    const info = await ffprobeJson<{
      frames: Array<{ best_effort_timestamp_time?: string }>;
      format: { start_time: string };
    }>(path, [
      ...['-select_streams', 'v:0', '-read_intervals', '%+#10'],
      ...['-show_entries', 'frame=best_effort_timestamp_time', '-show_format'],
    ]);
    const firstFrame = info.frames.find((f) => f.best_effort_timestamp_time !== undefined)!;
    const firstFrameS = Number(firstFrame.best_effort_timestamp_time) - Number(info.format.start_time);
    const fps = video.options.fps;
    const frame = 1 / fps;
    const keyframeSpacing = video.options.gop / fps;
    for (const piece of pieces) {
      expect(piece.piece_key.endsWith(pieceExt)).toBe(true);
      expect(piece.piece_start_s).toBeLessThanOrEqual(Math.max(piece.start, firstFrameS) + 1e-3);
      // No keyframe lies between the piece start and the clip start: the piece is as short as it can be.
      expect(piece.start - piece.piece_start_s).toBeLessThan(keyframeSpacing);

      const out = (
        await runStageOnce(
          transcodeClip,
          transcodeInputOf({ namespace: 'default', request_id: id }, piece, {
            ...resolveProfile('fast').transcode,
            height: 120,
          }),
          h.deps(),
        )
      ).manifest.output;
      const mp4 = join(h.dir, `${name}-${piece.index}.mp4`);
      await writeFile(mp4, await h.store.getBytes(out.video_key));
      const probe = await ffprobeJson<{ streams: Array<Record<string, string>> }>(mp4, [
        '-count_packets',
        '-select_streams',
        'v:0',
        '-show_streams',
      ]);
      const wanted = piece.end - piece.start;
      expect(Math.abs(Number(probe.streams[0]!.nb_read_packets) * frame - wanted)).toBeLessThanOrEqual(
        frame + 1e-6,
      );
      expect(out).toMatchObject({ width: 160, height: 120 });

      // Compare with the original MP4 (exact seeking; MPEG-TS seeking is not): frame n is at
      // firstFrameS + n/fps in this container and at n/fps in the MP4.
      const expected = firstFrameAtOrAfter(Math.max(0, piece.start - firstFrameS), fps);
      const shown = await locateFrames(mp4, video.path, expected, fps);
      expect(
        Math.abs(shown[0]! - expected),
        `clip ${piece.index} shows frame ${shown[0]}, wanted ${expected}`,
      ).toBeLessThanOrEqual(1);
      // …and then every frame after it once, in order. (The first may be held one frame longer:
      // ffmpeg's constant-rate MP4 output repeats a first frame that lands late in its interval.)
      const [first, second, ...rest] = shown;
      expect([0, 1], `clip ${piece.index}: ${first}, ${second}`).toContain(second! - first!);
      expect(rest, `clip ${piece.index}`).toEqual(rest.map((_, i) => second! + 1 + i));
    }
  });
});

describe('bad inputs to the per-clip stages: stable codes, nothing written', () => {
  async function expectRefused(run: () => Promise<unknown>, code: string) {
    const before = await listKeys(h.store, '');
    await expect(run()).rejects.toMatchObject({ code, retryable: false });
    expect(await listKeys(h.store, '')).toEqual(before);
  }

  it('cut-clips: a clip after the end of the source → CLIP_OUT_OF_RANGE', async () => {
    const id = 'req-bad-cut-range';
    const sourceKey = requestKeys(id).input('source.mp4');
    await h.store.put(sourceKey, await readFile(video.path));
    const clips = [
      { index: 0, start: 1, end: 3 },
      { index: 1, start: 40, end: 45 },
    ];
    await expectRefused(
      () =>
        runStageOnce(
          cutClips,
          { namespace: 'default', request_id: id, source_key: sourceKey, clips },
          h.deps(),
        ),
      'CLIP_OUT_OF_RANGE',
    );
  });

  it('cut-clips and sample-frames: a file that is not media → UNREADABLE_MEDIA', async () => {
    const id = 'req-bad-not-media';
    const key = requestKeys(id).input('source.mp4');
    await h.store.put(key, 'not a video at all');
    await expectRefused(
      () =>
        runStageOnce(
          cutClips,
          { namespace: 'default', request_id: id, source_key: key, clips: CLIPS },
          h.deps(),
        ),
      'UNREADABLE_MEDIA',
    );
    const sampleInput = {
      namespace: 'default',
      request_id: id,
      clip: 0,
      video_key: key,
      duration_s: 2,
      params: resolveProfile('default').frames,
    };
    await expectRefused(() => runStageOnce(sampleFrames, sampleInput, h.deps()), 'UNREADABLE_MEDIA');
  });

  it('transcode-clip: a range past the end of the piece → CLIP_OUT_OF_RANGE', async () => {
    const id = 'req-bad-transcode';
    const sourceKey = requestKeys(id).input('source.mp4');
    await h.store.put(sourceKey, await readFile(video.path));
    const { pieces } = (
      await runStageOnce(
        cutClips,
        { namespace: 'default', request_id: id, source_key: sourceKey, clips: [CLIPS[0]!] },
        h.deps(),
      )
    ).manifest.output;
    const input = {
      ...transcodeInputOf(
        { namespace: 'default', request_id: id },
        pieces[0]!,
        resolveProfile('fast').transcode,
      ),
      offset_s: 60,
      duration_s: 2,
    };
    await expectRefused(() => runStageOnce(transcodeClip, input, h.deps()), 'CLIP_OUT_OF_RANGE');
  });
});

describe('a source without audio', () => {
  it('still gets a playable H.264/AAC rendition (silent track) and a 16 kHz mono WAV', async () => {
    const id = 'req-noaudio-transcode';
    const sourceKey = requestKeys(id).input('source.mp4');
    await h.store.put(sourceKey, await readFile(await videoWithoutAudio({ durationS: 6 })));
    const { pieces } = (
      await runStageOnce(
        cutClips,
        {
          namespace: 'default',
          request_id: id,
          source_key: sourceKey,
          clips: [{ index: 0, start: 1, end: 3.5 }],
        },
        h.deps(),
      )
    ).manifest.output;
    const out = (
      await runStageOnce(
        transcodeClip,
        {
          ...transcodeInputOf(
            { namespace: 'default', request_id: id },
            pieces[0]!,
            resolveProfile('fast').transcode,
          ),
          duration_s: 2.5,
        },
        h.deps(),
      )
    ).manifest.output;
    const mp4 = join(h.dir, 'noaudio-clip.mp4');
    const wav = join(h.dir, 'noaudio-clip.wav');
    await writeFile(mp4, await h.store.getBytes(out.video_key));
    await writeFile(wav, await h.store.getBytes(out.audio_key));
    const streams = (await ffprobeJson<{ streams: Array<Record<string, unknown>> }>(mp4, ['-show_streams']))
      .streams;
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const wavStream = (await ffprobeJson<{ streams: Array<Record<string, unknown>> }>(wav, ['-show_streams']))
      .streams[0]!;
    expect(wavStream).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '16000', channels: 1 });
    expect(Number(wavStream.duration)).toBeCloseTo(2.5, 1);
  });
});
