import { z } from 'zod';
import { FUNCTION_STAGES, type FunctionStageName } from './pipeline.js';

/**
 * Profiles are named parameter sets. A request picks one and may override
 * single values; the merged result is validated again with these bounds, so a
 * huge or negative override is a 4xx, not a runaway job.
 */
export const SegmentParams = z.object({
  /** Frames quieter than peak − top_db are silence (librosa.effects.split). */
  top_db: z.number().min(10).max(80),
  frame_ms: z.number().min(5).max(200),
  hop_ms: z.number().min(5).max(100),
  /** Hysteresis: dB above the threshold a region must reach to start speech. */
  hysteresis_db: z.number().min(0).max(20),
  min_clip_s: z.number().min(0.5).max(60),
  max_clip_s: z.number().min(1).max(600),
  pad_s: z.number().min(0).max(5),
  /** Speech regions closer than this are merged into one clip. */
  merge_gap_s: z.number().min(0).max(30),
  /** Clip length used when the audio has no speech at all. */
  fallback_clip_s: z.number().min(1).max(600),
});

export const TranscodeParams = z.object({
  height: z.number().int().min(90).max(2160),
  preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']),
  crf: z.number().int().min(0).max(51),
  audio_bitrate_k: z.number().int().min(32).max(320),
});

export const FrameParams = z.object({
  fps: z.number().min(0.1).max(10),
  max_width: z.number().int().min(64).max(1920),
  thumb_width: z.number().int().min(64).max(1280),
});

export const DetectParams = z.object({
  /** How a frame is shown to the 512×512 model: letterboxed whole, as overlapping square tiles, or both. */
  views: z.enum(['letterbox', 'tiles', 'both']),
  /** A detection at or above this counts on its own. */
  min_score: z.number().min(0.05).max(1),
  /** A weaker detection (≥ this) counts when its label reaches it in `support_frames` of 3 neighbouring frames. */
  support_score: z.number().min(0.05).max(1),
  support_frames: z.number().int().min(1).max(3),
  max_detections: z.number().int().min(1).max(100),
  iou_threshold: z.number().min(0.1).max(0.95),
});

export const TranscribeParams = z.object({
  language: z.string().regex(/^[a-z]{2}(-[a-z]{2})?$/),
});

/** Seconds per call, one per stage that is a function (the source copy has SOURCE_TIMEOUT_S). */
const StageTimeout = z.number().min(1).max(3600);
export const StageTimeouts = z.object(
  Object.fromEntries(FUNCTION_STAGES.map((stage) => [stage, StageTimeout])) as Record<
    FunctionStageName,
    typeof StageTimeout
  >,
);

export const RunParams = z.object({
  /** Seconds per stage call before it counts as a (retryable) timeout. */
  stage_timeout_s: StageTimeouts,
  max_attempts: z.number().int().min(1).max(10),
  /**
   * Extra attempts for a stage that answered 429 (at its max_inflight): it is
   * busy, not failing, so waiting for it does not use up max_attempts.
   */
  busy_retries: z.number().int().min(0).max(1000),
  backoff_base_ms: z.number().int().min(10).max(60_000),
  backoff_max_ms: z.number().int().min(10).max(600_000),
  /** How many clips may fail before the whole request fails. */
  tolerated_clip_failures: z.number().int().min(0).max(10_000),
  max_clips: z.number().int().min(1).max(10_000),
});

export const Profile = z.object({
  segment: SegmentParams,
  transcode: TranscodeParams,
  frames: FrameParams,
  detect: DetectParams,
  transcribe: TranscribeParams,
  run: RunParams,
});
export type Profile = z.infer<typeof Profile>;
export type SegmentParams = z.infer<typeof SegmentParams>;
export type TranscodeParams = z.infer<typeof TranscodeParams>;
export type FrameParams = z.infer<typeof FrameParams>;
export type DetectParams = z.infer<typeof DetectParams>;
export type RunParams = z.infer<typeof RunParams>;

/** Overrides: any subset of any section, checked strictly (unknown keys are errors). */
export const ProfileOverrides = z
  .object({
    segment: SegmentParams.partial().strict(),
    transcode: TranscodeParams.partial().strict(),
    frames: FrameParams.partial().strict(),
    detect: DetectParams.partial().strict(),
    transcribe: TranscribeParams.partial().strict(),
    run: RunParams.extend({ stage_timeout_s: StageTimeouts.partial().strict() }).partial().strict(),
  })
  .partial()
  .strict();
export type ProfileOverrides = z.infer<typeof ProfileOverrides>;
