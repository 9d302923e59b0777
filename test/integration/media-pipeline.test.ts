/**
 * The media stages chained on one real video, with real ffmpeg and a folder
 * store: extract-audio → segment-speech → cut-clips → transcode-clip → sample-frames.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipPiece } from '../../common/contracts/stages.js';
import { requestKeys } from '../../common/keys.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { cutClips } from '../../functions/cut-clips/stage.js';
import { extractAudio } from '../../functions/extract-audio/stage.js';
import { transcodeInputOf } from '../../functions/orchestrator/dag.js';
import { sampleFrames } from '../../functions/sample-frames/stage.js';
import { segmentSpeech } from '../../functions/segment-speech/stage.js';
import { transcodeClip } from '../../functions/transcode-clip/stage.js';
import {
  ffprobeJson,
  firstFrameAtOrAfter,
  locateFirstFrame,
  type SpeechVideo,
  silencedetectSpeech,
  speechVideo,
} from '../helpers/media.js';
import {
  countingRunner,
  listKeys,
  type MediaStageHarness,
  mediaStageHarness,
} from '../helpers/media-stages.js';

const REQUEST = 'req-media-pipeline';
const profile = resolveProfile('default');

interface ProbeStreams {
  streams: Array<{
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    sample_rate?: string;
    channels?: number;
    duration?: string;
    start_time?: string;
    nb_read_packets?: string;
  }>;
}

let h: MediaStageHarness;
let video: SpeechVideo;

beforeAll(async () => {
  h = await mediaStageHarness();
  video = await speechVideo();
  await h.store.put(requestKeys(REQUEST).input('source.mp4'), await readFile(video.path));
});
afterAll(() => h.cleanup());

const sourceKey = () => requestKeys(REQUEST).input('source.mp4');

async function extracted() {
  return (
    await runStageOnce(
      extractAudio,
      { namespace: 'default', request_id: REQUEST, source_key: sourceKey() },
      h.deps(),
    )
  ).manifest.output;
}

async function segmented() {
  const audio = await extracted();
  const input = {
    namespace: 'default',
    request_id: REQUEST,
    audio_key: audio.audio_key,
    duration_s: audio.probe.duration_s,
    params: profile.segment,
  };
  return (await runStageOnce(segmentSpeech, input, h.deps())).manifest.output;
}

async function cut() {
  const { clips } = await segmented();
  return (
    await runStageOnce(
      cutClips,
      { namespace: 'default', request_id: REQUEST, source_key: sourceKey(), clips },
      h.deps(),
    )
  ).manifest.output;
}

async function localCopy(key: string, name: string): Promise<string> {
  const path = join(h.dir, name);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, await h.store.getBytes(key));
  return path;
}

describe('extract-audio on a video with speech', () => {
  it('probes the source and writes a 16 kHz mono WAV as long as the video', async () => {
    const out = await extracted();
    expect(out.has_audio).toBe(true);
    expect(out.probe.video).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    expect(out.probe.video.fps).toBeCloseTo(30, 3);
    expect(out.probe.audio).toMatchObject({ codec: 'aac', channels: 1 });
    expect(out.probe.duration_s).toBeCloseTo(video.options.durationS, 1);
    const wav = await ffprobeJson<ProbeStreams>(await localCopy(out.audio_key, 'audio.wav'), [
      '-show_streams',
    ]);
    expect(wav.streams[0]).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '16000', channels: 1 });
    expect(Number(wav.streams[0]!.duration)).toBeCloseTo(video.options.durationS, 1);
  });
});

describe('segment-speech', () => {
  it('finds each known utterance within ±0.25 s', async () => {
    const out = await segmented();
    expect(out.no_speech).toBe(false);
    expect(out.speech).toHaveLength(video.speech.length);
    out.speech.forEach(([start, end], i) => {
      const [trueStart, trueEnd] = video.speech[i]!;
      expect(Math.abs(start - trueStart)).toBeLessThanOrEqual(0.25);
      expect(Math.abs(end - trueEnd)).toBeLessThanOrEqual(0.25);
    });
  });

  it('agrees with ffmpeg silencedetect on the same audio within ±0.25 s', async () => {
    const out = await segmented();
    const audio = await extracted();
    const reference = await silencedetectSpeech(
      await localCopy(audio.audio_key, 'audio-sd.wav'),
      -40,
      profile.segment.merge_gap_s,
    );
    expect(reference).toHaveLength(out.speech.length);
    out.speech.forEach(([start, end], i) => {
      expect(Math.abs(start - reference[i]![0])).toBeLessThanOrEqual(0.25);
      expect(Math.abs(end - reference[i]![1])).toBeLessThanOrEqual(0.25);
    });
  });

  it('makes ordered, non-overlapping clips that cover the speech and respect the profile', async () => {
    const { clips, speech } = await segmented();
    const p = profile.segment;
    clips.forEach((c, i) => {
      expect(c.index).toBe(i);
      expect(c.end - c.start).toBeLessThanOrEqual(p.max_clip_s + 1e-6);
      expect(c.end - c.start).toBeGreaterThanOrEqual(Math.min(p.min_clip_s, video.options.durationS) - 1e-6);
      if (i > 0) expect(c.start).toBeGreaterThanOrEqual(clips[i - 1]!.end);
    });
    for (const [s, e] of speech) {
      expect(clips.some((c) => c.start <= s + 1e-3 && c.end >= e - 1e-3)).toBe(true);
    }
  });
});

describe('cut-clips', () => {
  it('makes stream-copied pieces that start on a keyframe at or before each clip and contain it', async () => {
    const { pieces } = await cut();
    const { clips } = await segmented();
    expect(pieces.map((p) => p.index)).toEqual(clips.map((c) => c.index));
    const sourceCodec = 'h264';
    for (const piece of pieces) {
      expect(piece.piece_start_s).toBeLessThanOrEqual(piece.start + 1e-3);
      expect(piece.offset_s).toBeCloseTo(piece.start - piece.piece_start_s, 6);
      // Keyframes of the source are every gop/fps seconds: a stream copy can only start there.
      const keyframeSpacing = video.options.gop / video.options.fps;
      const k = piece.piece_start_s / keyframeSpacing;
      expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-3);

      const file = await localCopy(piece.piece_key, `piece-${piece.index}`);
      const probe = await ffprobeJson<ProbeStreams & { format: { start_time: string; duration: string } }>(
        file,
        ['-show_streams', '-show_format'],
      );
      // A stream copy: the source's codecs and size, not a re-encode.
      const v = probe.streams.find((s) => s.codec_type === 'video')!;
      expect(v).toMatchObject({ codec_name: sourceCodec, width: 320, height: 240 });
      expect(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');
      // The piece runs past the end of the range.
      const packets = await ffprobeJson<{ packets: Array<{ pts_time: string }> }>(file, [
        '-select_streams',
        'v:0',
        '-show_entries',
        'packet=pts_time',
      ]);
      const lastPts = Math.max(...packets.packets.map((p) => Number(p.pts_time)));
      expect(lastPts + 1 / video.options.fps).toBeGreaterThanOrEqual(
        Math.min(piece.end, video.options.durationS) - 1e-3,
      );
    }
  });
});

describe('transcode-clip', () => {
  let pieces: ClipPiece[];
  beforeAll(async () => {
    pieces = (await cut()).pieces;
  });

  it('renders each clip starting and lasting within one frame of the requested range', async () => {
    const frame = 1 / video.options.fps;
    for (const piece of pieces) {
      const out = (
        await runStageOnce(
          transcodeClip,
          transcodeInputOf({ namespace: 'default', request_id: REQUEST }, piece, {
            ...profile.transcode,
            height: 180,
          }),
          h.deps(),
        )
      ).manifest.output;
      const mp4 = await localCopy(out.video_key, `clip-${piece.index}.mp4`);
      const probe = await ffprobeJson<ProbeStreams & { format: { format_name: string } }>(mp4, [
        '-count_packets',
        '-show_streams',
        '-show_format',
      ]);
      const v = probe.streams.find((s) => s.codec_type === 'video')!;
      const a = probe.streams.find((s) => s.codec_type === 'audio')!;
      expect(v).toMatchObject({ codec_name: 'h264', width: 240, height: 180 });
      expect(a.codec_name).toBe('aac');
      expect(out).toMatchObject({ width: 240, height: 180 });
      // Duration: frame count × frame time within one frame of the wanted length.
      const wanted = piece.end - piece.start;
      expect(Math.abs(Number(v.nb_read_packets) * frame - wanted)).toBeLessThanOrEqual(frame + 1e-6);
      expect(Math.abs(Number(v.duration) - wanted)).toBeLessThanOrEqual(frame + 1e-6);

      // Start: the first rendered frame is the source frame at `start`, give or take one.
      const shown = await locateFirstFrame(mp4, video.path, piece.start, video.options.fps);
      expect(Math.abs(shown - firstFrameAtOrAfter(piece.start, video.options.fps))).toBeLessThanOrEqual(1);

      const wav = await ffprobeJson<ProbeStreams>(await localCopy(out.audio_key, `clip-${piece.index}.wav`), [
        '-show_streams',
      ]);
      expect(wav.streams[0]).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '16000', channels: 1 });
      expect(Math.abs(Number(wav.streams[0]!.duration) - wanted)).toBeLessThanOrEqual(frame);
    }
  });
});

describe('sample-frames', () => {
  it('writes duration × fps JPEG frames (±1) with increasing true times, and a thumbnail', async () => {
    const pieces = (await cut()).pieces;
    const piece = pieces[1]!;
    const transcode = (
      await runStageOnce(
        transcodeClip,
        transcodeInputOf({ namespace: 'default', request_id: REQUEST }, piece, {
          ...profile.transcode,
          height: 180,
        }),
        h.deps(),
      )
    ).manifest.output;
    for (const fps of [1, 2.5]) {
      const params = { fps, max_width: 160, thumb_width: 96 };
      const out = (
        await runStageOnce(
          sampleFrames,
          {
            namespace: 'default',
            request_id: `${REQUEST}-fps${String(fps).replace('.', '_')}`,
            clip: piece.index,
            video_key: transcode.video_key,
            duration_s: transcode.duration_s,
            params,
          },
          h.deps(),
        )
      ).manifest.output;
      expect(Math.abs(out.frames.length - transcode.duration_s * fps)).toBeLessThanOrEqual(1);
      out.frames.forEach((f, i) => {
        if (i > 0) expect(f.t).toBeGreaterThan(out.frames[i - 1]!.t);
        // The frame shown at i / fps: at most one source frame earlier.
        expect(i / fps - f.t).toBeGreaterThanOrEqual(-1e-6);
        expect(i / fps - f.t).toBeLessThan(1 / video.options.fps + 1e-6);
      });
      const jpeg = await sharp(await h.store.getBytes(out.frames[0]!.key)).metadata();
      expect(jpeg).toMatchObject({ format: 'jpeg', width: 160, height: 120 });
      const thumb = await sharp(await h.store.getBytes(out.thumbnail_key)).metadata();
      expect(thumb).toMatchObject({ format: 'jpeg', width: 96, height: 72 });
    }
  });
});

describe('idempotency', () => {
  it('every stage called again with the same input returns the same manifest and starts no ffmpeg', async () => {
    const counter = countingRunner(h.ffmpeg);
    const deps = h.deps(counter.runner);
    const audio = await extracted();
    const { clips } = await segmented();
    const { pieces } = await cut();
    const piece = pieces[0]!;
    const transcodeInput = transcodeInputOf({ namespace: 'default', request_id: REQUEST }, piece, {
      ...profile.transcode,
      height: 180,
    });
    const rendition = (await runStageOnce(transcodeClip, transcodeInput, h.deps())).manifest.output;
    const sampleInput = {
      namespace: 'default',
      request_id: REQUEST,
      clip: piece.index,
      video_key: rendition.video_key,
      duration_s: rendition.duration_s,
      params: profile.frames,
    };
    const first = await runStageOnce(sampleFrames, sampleInput, h.deps());
    const keysBefore = await listKeys(h.store, '');

    const calls = [
      () =>
        runStageOnce(
          extractAudio,
          { namespace: 'default', request_id: REQUEST, source_key: sourceKey() },
          deps,
        ),
      () =>
        runStageOnce(
          segmentSpeech,
          {
            namespace: 'default',
            request_id: REQUEST,
            audio_key: audio.audio_key,
            duration_s: audio.probe.duration_s,
            params: profile.segment,
          },
          deps,
        ),
      () =>
        runStageOnce(
          cutClips,
          { namespace: 'default', request_id: REQUEST, source_key: sourceKey(), clips },
          deps,
        ),
      () => runStageOnce(transcodeClip, transcodeInput, deps),
      () => runStageOnce(sampleFrames, sampleInput, deps),
    ];
    for (const call of calls) expect((await call()).reused).toBe(true);
    expect((await runStageOnce(sampleFrames, sampleInput, deps)).manifest).toEqual(first.manifest);
    expect(counter.calls()).toBe(0);
    expect(await listKeys(h.store, '')).toEqual(keysBefore);

    // A changed input is new work: the stage runs again.
    await runStageOnce(sampleFrames, { ...sampleInput, params: { ...profile.frames, fps: 0.5 } }, deps);
    expect(counter.calls()).toBeGreaterThan(0);
  });
});
