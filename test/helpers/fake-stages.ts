import type { FunctionStageName } from '../../common/contracts/pipeline.js';
import { clipId } from '../../common/keys.js';
import { defineStage, type StageDefinition } from '../../common/stage.js';

/**
 * Small stand-ins for the real stages, for orchestrator tests: they write real
 * objects and manifests through the store (via runStageOnce) but do no media
 * work. The "video" is FAKE_DURATION_S long; clip 1 shows a car and clip 2
 * mentions a budget, so queries have something to find.
 */
export const FAKE_DURATION_S = 30;
export const FAKE_CLIP_S = 10;

export const fakeStages: { [S in FunctionStageName]: StageDefinition<S> } = {
  'extract-audio': defineStage({
    name: 'extract-audio',
    async run(_input, { store, outputKey }) {
      const audio_key = outputKey('audio.wav');
      await store.put(audio_key, Buffer.from('RIFF-fake'));
      return {
        audio_key,
        has_audio: true,
        probe: {
          format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
          duration_s: FAKE_DURATION_S,
          size_bytes: 1000,
          video: { codec: 'h264', width: 320, height: 240, fps: 25 },
          audio: { codec: 'aac', sample_rate: 48000, channels: 1 },
        },
      };
    },
  }),
  'segment-speech': defineStage({
    name: 'segment-speech',
    async run(input) {
      const clips = [];
      for (let start = 0, index = 0; start < input.duration_s; start += FAKE_CLIP_S, index++) {
        clips.push({ index, start, end: Math.min(input.duration_s, start + FAKE_CLIP_S) });
      }
      return { speech: clips.map((c) => [c.start, c.end] as [number, number]), clips, no_speech: false };
    },
  }),
  'cut-clips': defineStage({
    name: 'cut-clips',
    async run(input, { store, outputKey }) {
      const pieces = [];
      for (const clip of input.clips) {
        const piece_key = outputKey(`${clipId(clip.index)}.mp4`);
        await store.put(piece_key, Buffer.from(`piece ${clip.index}`));
        pieces.push({
          ...clip,
          piece_key,
          piece_start_s: clip.start,
          piece_timestamp_s: clip.start,
          has_audio: true,
          offset_s: 0,
        });
      }
      return { pieces };
    },
  }),
  'transcode-clip': defineStage({
    name: 'transcode-clip',
    async run(input, { store, outputKey }) {
      const video_key = outputKey('clip.mp4');
      const audio_key = outputKey('audio.wav');
      await store.put(video_key, Buffer.from(`clip ${input.clip}`));
      await store.put(audio_key, Buffer.from(`wav ${input.clip}`));
      return {
        clip: input.clip,
        video_key,
        audio_key,
        duration_s: input.duration_s,
        width: 320,
        height: 240,
      };
    },
  }),
  'transcribe-clip': defineStage({
    name: 'transcribe-clip',
    async run(input) {
      const words =
        input.clip === 2
          ? [
              { word: 'the', start: 1, end: 1.2 },
              { word: 'budget', start: 1.2, end: 1.8 },
            ]
          : [];
      return {
        clip: input.clip,
        engine: 'fake',
        text: words.map((w) => w.word).join(' '),
        words,
        no_speech: words.length === 0,
      };
    },
  }),
  'sample-frames': defineStage({
    name: 'sample-frames',
    async run(input, { store, outputKey }) {
      const frames = [];
      for (let t = 0; t < input.duration_s; t += 1 / input.params.fps) {
        const key = outputKey(`f${frames.length}.jpg`);
        frames.push({ key, t });
      }
      const thumbnail_key = outputKey('thumb.jpg');
      await store.put(thumbnail_key, Buffer.from('jpg'));
      return { clip: input.clip, frames, thumbnail_key };
    },
  }),
  'detect-objects': defineStage({
    name: 'detect-objects',
    async run(input) {
      const sees = input.clip === 1;
      return {
        clip: input.clip,
        model: 'fake',
        detections: sees
          ? [
              {
                t: 2,
                label: 'car',
                score: 0.9,
                box: [0.1, 0.1, 0.3, 0.3] as [number, number, number, number],
              },
            ]
          : [],
        labels: sees
          ? [{ label: 'car', best_score: 0.9, ranges: [[2, 6] as [number, number]], frames: 4 }]
          : [],
      };
    },
  }),
};
