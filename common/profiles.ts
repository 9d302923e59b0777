import { FUNCTION_STAGES, type FunctionStageName, PIPELINE } from './contracts/pipeline.js';
import { Profile, ProfileOverrides } from './contracts/profile.js';
import { InputError } from './errors.js';

const base: Profile = {
  segment: {
    top_db: 35,
    frame_ms: 50,
    hop_ms: 10,
    hysteresis_db: 6,
    min_clip_s: 2,
    max_clip_s: 20,
    pad_s: 0.25,
    merge_gap_s: 0.6,
    fallback_clip_s: 10,
  },
  transcode: { height: 360, preset: 'veryfast', crf: 28, audio_bitrate_k: 96 },
  frames: { fps: 1, max_width: 640, thumb_width: 320 },
  detect: {
    views: 'both',
    min_score: 0.3,
    support_score: 0.15,
    support_frames: 2,
    max_detections: 20,
    iou_threshold: 0.5,
  },
  transcribe: { language: 'en-us' },
  run: {
    stage_timeout_s: Object.fromEntries(
      FUNCTION_STAGES.map((stage) => [stage, PIPELINE[stage].timeout_s]),
    ) as Record<FunctionStageName, number>,
    max_attempts: 3,
    busy_retries: 30,
    backoff_base_ms: 200,
    backoff_max_ms: 10_000,
    tolerated_clip_failures: 0,
    max_clips: 2000,
  },
};

/** The named profiles. `fast` trades quality for speed; `accurate` the other way round. */
export const PROFILES = {
  default: base,
  fast: {
    ...base,
    transcode: { ...base.transcode, height: 240, preset: 'ultrafast', crf: 32 },
    frames: { ...base.frames, fps: 0.5 },
    detect: { ...base.detect, views: 'letterbox', max_detections: 10 },
  },
  accurate: {
    ...base,
    transcode: { ...base.transcode, height: 720, preset: 'fast', crf: 23 },
    frames: { ...base.frames, fps: 2 },
    detect: { ...base.detect, min_score: 0.25 },
    run: { ...base.run, max_attempts: 4 },
  },
} satisfies Record<string, Profile>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as [ProfileName, ...ProfileName[]];

/** The refusal of a profile name that is not one of PROFILE_NAMES (`issues`: the request schema's, when it found it). */
export function unknownProfile(name: unknown, issues?: readonly unknown[]): InputError {
  return new InputError('UNKNOWN_PROFILE', `unknown profile "${String(name).slice(0, 100)}"`, {
    details: { known: PROFILE_NAMES, ...(issues && { issues }) },
  });
}

/** The refusal of overrides the ProfileOverrides schema rejects (an unknown key, a value out of bounds). */
export function invalidOverrides(issues: readonly unknown[]): InputError {
  return new InputError('INVALID_OVERRIDES', 'profile overrides are not valid', { details: { issues } });
}

/** The profile `name` with `overrides` applied, validated; InputError on anything unknown or out of bounds. */
export function resolveProfile(name: string, overrides: unknown = undefined): Profile {
  if (!Object.hasOwn(PROFILES, name)) {
    throw unknownProfile(name);
  }
  const chosen: Profile = PROFILES[name as ProfileName];
  // A copy: profiles share nested objects, and callers must not be able to change them for everyone.
  if (overrides === undefined) return structuredClone(chosen);
  const parsed = ProfileOverrides.safeParse(overrides);
  if (!parsed.success) {
    throw invalidOverrides(parsed.error.issues);
  }
  const o = parsed.data;
  const merged = {
    segment: { ...chosen.segment, ...o.segment },
    transcode: { ...chosen.transcode, ...o.transcode },
    frames: { ...chosen.frames, ...o.frames },
    detect: { ...chosen.detect, ...o.detect },
    transcribe: { ...chosen.transcribe, ...o.transcribe },
    run: {
      ...chosen.run,
      ...o.run,
      stage_timeout_s: { ...chosen.run.stage_timeout_s, ...o.run?.stage_timeout_s },
    },
  };
  const checked = Profile.safeParse(merged);
  if (!checked.success) {
    throw new InputError('INVALID_OVERRIDES', 'profile overrides are out of bounds', {
      details: { issues: checked.error.issues },
    });
  }
  if (checked.data.segment.min_clip_s > checked.data.segment.max_clip_s) {
    throw new InputError('INVALID_OVERRIDES', 'segment.min_clip_s is larger than segment.max_clip_s');
  }
  return checked.data;
}
