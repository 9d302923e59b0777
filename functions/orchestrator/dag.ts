import type { Profile, TranscodeParams } from '../../common/contracts/profile.js';
import {
  type ClipPiece,
  PER_CLIP_STAGES,
  type PerClipStage,
  type StageInput,
  type StageName,
  type StageOutput,
} from '../../common/contracts/stages.js';
import { InputError } from '../../common/errors.js';
import { clipId } from '../../common/keys.js';

/**
 * The pipeline as data: for each stage, which tasks must have succeeded
 * before it may run, and how its input is built from their outputs.
 *
 *   extract-audio → segment-speech → cut-clips → per clip:
 *     transcode-clip → (transcribe-clip ∥ sample-frames → detect-objects)
 */
export const REQUEST_STAGES = ['extract-audio', 'segment-speech', 'cut-clips'] as const;
export type RequestStage = (typeof REQUEST_STAGES)[number];

/** "extract-audio" or "transcode-clip/0003". */
export type TaskKey = string;

export interface TaskRef {
  stage: StageName;
  clip?: number;
}

export function taskKey(stage: StageName, clip?: number): TaskKey {
  return clip === undefined ? stage : `${stage}/${clipId(clip)}`;
}

export function parseTaskKey(key: TaskKey): TaskRef {
  const slash = key.indexOf('/');
  if (slash < 0) return { stage: key as StageName };
  return { stage: key.slice(0, slash) as StageName, clip: Number(key.slice(slash + 1)) };
}

/** The tasks whose outputs a task needs. */
export function dependenciesOf(ref: TaskRef): TaskKey[] {
  switch (ref.stage) {
    case 'extract-audio':
      return [];
    case 'segment-speech':
      return ['extract-audio'];
    case 'cut-clips':
      return ['segment-speech'];
    case 'transcode-clip':
      return ['cut-clips'];
    case 'transcribe-clip':
    case 'sample-frames':
      return [taskKey('transcode-clip', ref.clip)];
    case 'detect-objects':
      return [taskKey('sample-frames', ref.clip)];
  }
}

/** The tasks that may become ready when `ref` succeeds (per-clip fan-out is created by the reducer). */
export function dependentsOf(ref: TaskRef): TaskKey[] {
  switch (ref.stage) {
    case 'extract-audio':
      return ['segment-speech'];
    case 'segment-speech':
      return ['cut-clips'];
    case 'cut-clips':
      return [];
    case 'transcode-clip':
      return [taskKey('transcribe-clip', ref.clip), taskKey('sample-frames', ref.clip)];
    case 'sample-frames':
      return [taskKey('detect-objects', ref.clip)];
    case 'transcribe-clip':
    case 'detect-objects':
      return [];
  }
}

/** Every per-clip task downstream of `ref` (to fail them when `ref` fails for good). */
export function downstreamOf(ref: TaskRef): TaskKey[] {
  const direct = dependentsOf(ref);
  return direct.flatMap((key) => [key, ...downstreamOf(parseTaskKey(key))]);
}

export function clipTaskKeys(clip: number): TaskKey[] {
  return PER_CLIP_STAGES.map((stage: PerClipStage) => taskKey(stage, clip));
}

/** Outputs of the tasks a task depends on, by task key. */
export type DependencyOutputs = ReadonlyMap<TaskKey, unknown>;

export interface InputContext {
  requestId: string;
  sourceKey: string;
  profile: Profile;
}

/** Builds a task's input from the request and its dependencies' outputs. Pure. */
export function buildInput(ref: TaskRef, ctx: InputContext, deps: DependencyOutputs): unknown {
  const out = <S extends StageName>(stage: S, clip?: number) => {
    const value = deps.get(taskKey(stage, clip));
    if (value === undefined) throw new Error(`missing output of ${taskKey(stage, clip)}`);
    return value as StageOutput<S>;
  };
  const request_id = ctx.requestId;
  const clip = ref.clip ?? 0;
  switch (ref.stage) {
    case 'extract-audio':
      return { request_id, source_key: ctx.sourceKey } satisfies StageInput<'extract-audio'>;
    case 'segment-speech': {
      const audio = out('extract-audio');
      return {
        request_id,
        audio_key: audio.audio_key,
        duration_s: audio.probe.duration_s,
        params: ctx.profile.segment,
      } satisfies StageInput<'segment-speech'>;
    }
    case 'cut-clips': {
      const { clips } = out('segment-speech');
      if (clips.length > ctx.profile.run.max_clips) {
        // Refused rather than cut short: dropping the end of a video would answer a different question.
        throw new InputError('TOO_MANY_CLIPS', `${clips.length} clips, more than run.max_clips`, {
          details: { clips: clips.length, max_clips: ctx.profile.run.max_clips },
        });
      }
      return { request_id, source_key: ctx.sourceKey, clips } satisfies StageInput<'cut-clips'>;
    }
    case 'transcode-clip': {
      const piece = out('cut-clips').pieces.find((p) => p.index === clip);
      if (!piece) throw new Error(`cut-clips has no piece ${clip}`);
      return transcodeInputOf(request_id, piece, ctx.profile.transcode);
    }
    case 'transcribe-clip':
      return {
        request_id,
        clip,
        audio_key: out('transcode-clip', clip).audio_key,
        params: ctx.profile.transcribe,
      } satisfies StageInput<'transcribe-clip'>;
    case 'sample-frames': {
      const rendition = out('transcode-clip', clip);
      return {
        request_id,
        clip,
        video_key: rendition.video_key,
        duration_s: Math.max(rendition.duration_s, 0.04),
        params: ctx.profile.frames,
      } satisfies StageInput<'sample-frames'>;
    }
    case 'detect-objects':
      return {
        request_id,
        clip,
        frames: out('sample-frames', clip).frames,
        frame_interval_s: 1 / ctx.profile.frames.fps,
        params: ctx.profile.detect,
      } satisfies StageInput<'detect-objects'>;
  }
}

/** transcode-clip's input for one piece that cut-clips made: the exact range, and what cut-clips measured. */
export function transcodeInputOf(
  requestId: string,
  piece: ClipPiece,
  params: TranscodeParams,
): StageInput<'transcode-clip'> {
  return {
    request_id: requestId,
    clip: piece.index,
    piece_key: piece.piece_key,
    piece_timestamp_s: piece.piece_timestamp_s,
    has_audio: piece.has_audio,
    offset_s: piece.offset_s,
    duration_s: Math.max(piece.end - piece.start, 0.04),
    params,
  };
}
