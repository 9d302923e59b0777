import { z } from 'zod';
import { ClipIndex, IsoTime, Namespace, ObjectKey, RequestId, Seconds, TimeRange } from './common.js';
import { STAGE_NAMES } from './pipeline.js';
import { DetectParams, FrameParams, SegmentParams, TranscodeParams, TranscribeParams } from './profile.js';

/**
 * Every stage's input and output (the stages themselves are the rows of
 * pipeline.ts). Times in per-clip stage outputs are seconds from the start of
 * that clip's rendition; `clip_start_s` converts them to source time.
 */
export const StageName = z.enum(STAGE_NAMES);
export type StageName = z.infer<typeof StageName>;

/**
 * What every stage input carries besides its own fields: the namespace its
 * results are shared in (results/<namespace>/…), and the request it runs for
 * (logs, and the StageWriteGuard: a call for a finished request writes
 * nothing). The request id is not part of the task digest; the namespace is.
 */
const TaskInput = z.object({ namespace: Namespace, request_id: RequestId });

// ---- copy-source (run by the orchestrator itself) ------------------------------

export const CopySourceInput = TaskInput.extend({ video_uri: z.string().min(1) });
export const CopySourceOutput = z.object({
  /**
   * The source, content-addressed: results/<ns>/copy-source/<sha256>/source.<ext>, so
   * every later stage's digest covers the bytes (the same video is analysed once).
   */
  source_key: ObjectKey,
  /** sha256 (hex) of the bytes copied, computed as they streamed in: what identifies the content. */
  sha256: z.string().regex(/^[a-f0-9]{64}$/),
  size_bytes: z.number().int().positive(),
  /** The source's file name: the last segment of its key or URL path. */
  name: z.string().min(1),
});

// ---- extract-audio ---------------------------------------------------------

export const MediaProbe = z.object({
  format_name: z.string(),
  duration_s: Seconds,
  size_bytes: z.number().int().nonnegative(),
  video: z.object({
    codec: z.string(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    fps: z.number().positive(),
  }),
  audio: z
    .object({ codec: z.string(), sample_rate: z.number().int().positive(), channels: z.number().int() })
    .nullable(),
});
export type MediaProbe = z.infer<typeof MediaProbe>;

export const ExtractAudioInput = TaskInput.extend({
  source_key: ObjectKey,
});
export const ExtractAudioOutput = z.object({
  probe: MediaProbe,
  /** 16 kHz mono 16-bit PCM WAV of the whole source. */
  audio_key: ObjectKey,
  /** False when the source had no audio track and a silent one was generated. */
  has_audio: z.boolean(),
});

// ---- segment-speech --------------------------------------------------------

export const ClipBoundary = z.object({ index: ClipIndex, start: Seconds, end: Seconds });
export type ClipBoundary = z.infer<typeof ClipBoundary>;

export const SegmentSpeechInput = TaskInput.extend({
  audio_key: ObjectKey,
  duration_s: Seconds,
  params: SegmentParams,
});
export const SegmentSpeechOutput = z.object({
  /** Speech regions found, in source seconds. */
  speech: z.array(TimeRange),
  /** The clips to cut, in source seconds, ordered, non-overlapping. */
  clips: z.array(ClipBoundary).min(1),
  /** True when no speech was found and the clips are fixed-length windows. */
  no_speech: z.boolean(),
});

// ---- cut-clips ---------------------------------------------------------------

export const ClipPiece = z.object({
  index: ClipIndex,
  /** Stream copy of the source, widened to keyframes around [start, end]. */
  piece_key: ObjectKey,
  /** Source time of the piece's first frame. */
  piece_start_s: Seconds,
  /**
   * The piece's own timestamp of that frame (pieces keep the source's
   * timestamps, so this is piece_start_s plus the source's start time).
   */
  piece_timestamp_s: z.number().finite(),
  /** Whether the piece has an audio track (its stream 1; the video is stream 0). */
  has_audio: z.boolean(),
  /** The wanted range in source time. */
  start: Seconds,
  end: Seconds,
  /** Where the wanted range begins inside the piece (start − piece_start_s). */
  offset_s: Seconds,
});
export type ClipPiece = z.infer<typeof ClipPiece>;

export const CutClipsInput = TaskInput.extend({
  source_key: ObjectKey,
  clips: z.array(ClipBoundary).min(1),
});
export const CutClipsOutput = z.object({ pieces: z.array(ClipPiece).min(1) });

// ---- transcode-clip -------------------------------------------------------------

export const TranscodeClipInput = TaskInput.extend({
  clip: ClipIndex,
  piece_key: ObjectKey,
  /** The piece's timestamp of its first frame (ClipPiece.piece_timestamp_s): what the trim seeks from. */
  piece_timestamp_s: z.number().finite(),
  has_audio: z.boolean(),
  offset_s: Seconds,
  duration_s: Seconds.positive(),
  params: TranscodeParams,
});
export const TranscodeClipOutput = z.object({
  clip: ClipIndex,
  /** H.264/AAC MP4 (+faststart) trimmed exactly to the wanted range. */
  video_key: ObjectKey,
  /** 16 kHz mono PCM WAV of the same range. */
  audio_key: ObjectKey,
  duration_s: Seconds,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

// ---- transcribe-clip ------------------------------------------------------------

export const Word = z.object({
  word: z.string().min(1),
  start: Seconds,
  end: Seconds,
  confidence: z.number().min(0).max(1).optional(),
});
export type Word = z.infer<typeof Word>;

export const TranscribeClipInput = TaskInput.extend({
  clip: ClipIndex,
  audio_key: ObjectKey,
  params: TranscribeParams,
});
export const TranscribeClipOutput = z.object({
  clip: ClipIndex,
  engine: z.string(),
  text: z.string(),
  words: z.array(Word),
  /** True when the engine heard no speech; `text` is then empty. */
  no_speech: z.boolean(),
});

// ---- sample-frames --------------------------------------------------------------

export const Frame = z.object({ key: ObjectKey, t: Seconds });
export type Frame = z.infer<typeof Frame>;

export const SampleFramesInput = TaskInput.extend({
  clip: ClipIndex,
  video_key: ObjectKey,
  duration_s: Seconds.positive(),
  params: FrameParams,
});
export const SampleFramesOutput = z.object({
  clip: ClipIndex,
  frames: z.array(Frame),
  thumbnail_key: ObjectKey,
});

// ---- detect-objects -------------------------------------------------------------

export const Detection = z.object({
  t: Seconds,
  label: z.string(),
  score: z.number().min(0).max(1),
  /** [x, y, width, height], normalized to 0..1 of the frame. */
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
});
export type Detection = z.infer<typeof Detection>;

export const LabelEvidence = z.object({
  label: z.string(),
  best_score: z.number().min(0).max(1),
  /** Clip-relative time ranges where the label is seen. */
  ranges: z.array(TimeRange),
  frames: z.number().int().nonnegative(),
});
export type LabelEvidence = z.infer<typeof LabelEvidence>;

export const DetectObjectsInput = TaskInput.extend({
  clip: ClipIndex,
  frames: z.array(Frame),
  /** Seconds between sampled frames: a detection covers [t, t + frame_interval_s). */
  frame_interval_s: Seconds.positive(),
  params: DetectParams,
});
export const DetectObjectsOutput = z.object({
  clip: ClipIndex,
  model: z.string(),
  detections: z.array(Detection),
  labels: z.array(LabelEvidence),
});

// ---- by stage -------------------------------------------------------------------

export const STAGE_CONTRACTS = {
  'copy-source': { input: CopySourceInput, output: CopySourceOutput },
  'extract-audio': { input: ExtractAudioInput, output: ExtractAudioOutput },
  'segment-speech': { input: SegmentSpeechInput, output: SegmentSpeechOutput },
  'cut-clips': { input: CutClipsInput, output: CutClipsOutput },
  'transcode-clip': { input: TranscodeClipInput, output: TranscodeClipOutput },
  'transcribe-clip': { input: TranscribeClipInput, output: TranscribeClipOutput },
  'sample-frames': { input: SampleFramesInput, output: SampleFramesOutput },
  'detect-objects': { input: DetectObjectsInput, output: DetectObjectsOutput },
} as const satisfies Record<StageName, { input: z.ZodType; output: z.ZodType }>;

export type StageInput<S extends StageName> = z.infer<(typeof STAGE_CONTRACTS)[S]['input']>;
export type StageOutput<S extends StageName> = z.infer<(typeof STAGE_CONTRACTS)[S]['output']>;

/**
 * What a stage writes last, at results/<ns>/<stage>/<digest>/manifest.json.
 * Its presence means the stage's outputs are complete; any request whose task
 * has the same digest reuses it instead of invoking the stage. It is also the
 * stage's HTTP response.
 */
export const manifestSchema = <S extends StageName>(stage: S) =>
  manifestOf<z.ZodLiteral<S>, (typeof STAGE_CONTRACTS)[S]['output']>(
    z.literal(stage),
    STAGE_CONTRACTS[stage].output,
  );
/** Any stage's manifest, its output not checked yet (what a stage call answers). */
export const AnyManifest = manifestOf(StageName, z.unknown());
export type AnyManifest = z.infer<typeof AnyManifest>;
export type Manifest<S extends StageName> = Omit<AnyManifest, 'stage' | 'output'> & {
  stage: S;
  output: StageOutput<S>;
};

function manifestOf<N extends z.ZodType<StageName>, O extends z.core.SomeType>(stage: N, output: O) {
  return z.object({
    schema_version: z.literal(1),
    stage,
    /** The request whose call made it (for debugging: any request with the same digest reuses it). */
    request_id: RequestId,
    clip: ClipIndex.nullable(),
    /** The task digest (manifests.ts taskDigest): the manifest's own directory, results/<ns>/<stage>/<digest>/. */
    digest: z.string().regex(/^[a-f0-9]{64}$/),
    created_at: IsoTime,
    duration_ms: z.number().nonnegative(),
    output,
  });
}
