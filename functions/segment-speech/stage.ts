import { readPcm16Mono } from '../../common/audio/wav.js';
import type { SegmentParams } from '../../common/contracts/profile.js';
import { InputError } from '../../common/errors.js';
import { defineStage } from '../../common/stage.js';
import type { ObjectStore } from '../../common/storage/types.js';
import {
  fixedWindows,
  mergeClose,
  planSpeechClips,
  type Range,
  roundMs,
  tileTimeline,
  toBoundaries,
} from './clip-plan.js';
import { FrameEnergy, splitOnEnergy } from './energy-split.js';

/** Loudest frame quieter than this (dBFS) = no speech, however it varies: hiss, hum, a silent track. */
export const ABSOLUTE_FLOOR_DBFS = -55;

/**
 * segment-speech: finds speech in extract-audio's WAV by frame energy and
 * turns it into clip boundaries (see clip-plan.ts) that tile the whole video:
 * speech segments become clips, and so does the time between them. No speech
 * at all → the whole video as fixed-length clips. Pure computation over the WAV: no ffmpeg, deterministic.
 */
export const segmentSpeech = defineStage({
  name: 'segment-speech',
  async run(input, { store, logger }) {
    const { params, duration_s: durationS } = input;
    if (durationS <= 0) throw new InputError('EMPTY_INPUT', 'duration_s must be above zero to cut clips');

    const regions = await findSoundRegions(store, input.audio_key, params);
    // Speech segments: sound regions with short pauses merged, inside the video's duration.
    const speech = mergeClose(regions, params.merge_gap_s)
      .map(([s, e]): Range => [Math.min(s, durationS), Math.min(e, durationS)])
      .filter(([s, e]) => e > s);
    const noSpeech = speech.length === 0;
    // Clips tile the whole video: the time between speech is looked at too.
    const clips = noSpeech
      ? fixedWindows(durationS, params)
      : tileTimeline(planSpeechClips(speech, durationS, params), durationS, params);
    logger.info({ speech_segments: speech.length, clips: clips.length, no_speech: noSpeech }, 'segmented');
    return {
      speech: speech.map(([s, e]): Range => [roundMs(s), roundMs(e)]),
      clips: toBoundaries(clips),
      no_speech: noSpeech,
    };
  },
});

/** Streams the WAV through the frame-energy split; returns sound regions in seconds. */
async function findSoundRegions(
  store: ObjectStore,
  audioKey: string,
  params: SegmentParams,
): Promise<Range[]> {
  let energy: FrameEnergy | undefined;
  let hop = 0;
  const format = await readPcm16Mono(await store.getStream(audioKey), (samples, wav) => {
    if (!energy) {
      hop = Math.max(1, Math.round((params.hop_ms / 1000) * wav.sampleRate));
      energy = new FrameEnergy(Math.max(1, Math.round((params.frame_ms / 1000) * wav.sampleRate)), hop);
    }
    energy.push(samples);
  });
  if (!energy) return []; // a WAV with no samples
  const runs = splitOnEnergy(energy.finish(), {
    topDb: params.top_db,
    hysteresisDb: params.hysteresis_db,
    absoluteFloorDbfs: ABSOLUTE_FLOOR_DBFS,
  });
  // Frame k is centred on sample k·hop, so a run of frames [a, b) is samples [a·hop, b·hop).
  return runs.map(([a, b]): Range => [(a * hop) / format.sampleRate, (b * hop) / format.sampleRate]);
}
