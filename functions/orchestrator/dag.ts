import {
  type ClipStageName,
  type DependencyOf,
  type FanOutStageName,
  isClipStage,
  ROWS,
  STAGE_NAMES,
} from '../../common/contracts/pipeline.js';
import type { Profile, TranscodeParams } from '../../common/contracts/profile.js';
import type { ClipPiece, StageInput, StageName, StageOutput } from '../../common/contracts/stages.js';
import { InputError } from '../../common/errors.js';
import { parseTaskKey, type TaskKey, type TaskRef, taskKey } from '../../common/task-key.js';

/**
 * The pipeline's tasks, from its table (common/contracts/pipeline.ts): which
 * tasks must have succeeded before a task may run, which become ready when it
 * succeeds, and how its input is built from their outputs.
 */

/** The tasks whose outputs a task needs: its row's `after`, a clip stage there for the same clip. */
export function dependenciesOf(ref: TaskRef): TaskKey[] {
  return ROWS[ref.stage].after.map((stage) => taskKey(stage, isClipStage(stage) ? ref.clip : undefined));
}

/** Stage → the stages that run after it: the table's `after`, inverted. */
const DEPENDENTS = Object.fromEntries(
  STAGE_NAMES.map((stage) => [stage, STAGE_NAMES.filter((later) => ROWS[later].after.includes(stage))]),
) as Record<StageName, StageName[]>;

/**
 * The tasks that need `ref`'s output, in a request with these clips: the
 * inverse of dependenciesOf. A request stage's clip dependents are the fan-out
 * (one task per clip); a clip stage's are the same clip's.
 */
export function dependentsOf(ref: TaskRef, clips: readonly number[]): TaskKey[] {
  return DEPENDENTS[ref.stage].flatMap((stage) =>
    !isClipStage(stage)
      ? [taskKey(stage)]
      : ref.clip === undefined
        ? clips.map((clip) => taskKey(stage, clip))
        : [taskKey(stage, ref.clip)],
  );
}

/** Every task downstream of a clip task (to fail them when it fails for good). */
export function downstreamOf(ref: TaskRef): TaskKey[] {
  const direct = dependentsOf(ref, []);
  return direct.flatMap((key) => [key, ...downstreamOf(parseTaskKey(key))]);
}

/** Outputs of the tasks a task depends on, by task key. */
export type DependencyOutputs = ReadonlyMap<TaskKey, unknown>;

export interface InputContext {
  /** Whose results the request shares (state.json's namespace). */
  namespace: string;
  requestId: string;
  /** The request's video_uri, as submitted. */
  videoUri: string;
  profile: Profile;
}

/** A stage's input from the request, its clip (clip stages) and the outputs of the stages it runs after. */
type InputBuilder<S extends StageName> = (
  deps: { [D in DependencyOf<S>]: StageOutput<D> },
  ctx: InputContext & { clip: S extends ClipStageName ? number : undefined },
) => StageInput<S>;

/** The fields every stage input starts with. */
export type TaskIds = Pick<StageInput<StageName>, 'namespace' | 'request_id'>;
const idsOf = (ctx: InputContext): TaskIds => ({ namespace: ctx.namespace, request_id: ctx.requestId });

/** One builder per stage of the table (TypeScript refuses a missing one). Pure. */
const INPUTS: { [S in StageName]: InputBuilder<S> } = {
  'copy-source': (_, ctx) => ({ ...idsOf(ctx), video_uri: ctx.videoUri }),
  'extract-audio': ({ 'copy-source': source }, ctx) => ({ ...idsOf(ctx), source_key: source.source_key }),
  'segment-speech': ({ 'extract-audio': audio }, ctx) => ({
    ...idsOf(ctx),
    audio_key: audio.audio_key,
    duration_s: audio.probe.duration_s,
    params: ctx.profile.segment,
  }),
  'cut-clips': ({ 'copy-source': source, 'segment-speech': { clips } }, ctx) => {
    if (clips.length > ctx.profile.run.max_clips) {
      // Refused rather than cut short: dropping the end of a video would answer a different question.
      throw new InputError('TOO_MANY_CLIPS', `${clips.length} clips, more than run.max_clips`, {
        details: { clips: clips.length, max_clips: ctx.profile.run.max_clips },
      });
    }
    return { ...idsOf(ctx), source_key: source.source_key, clips };
  },
  'transcode-clip': ({ 'cut-clips': { pieces } }, ctx) => {
    const piece = pieces.find((p) => p.index === ctx.clip);
    if (!piece) throw new Error(`cut-clips has no piece ${ctx.clip}`);
    return transcodeInputOf(idsOf(ctx), piece, ctx.profile.transcode);
  },
  'transcribe-clip': ({ 'transcode-clip': rendition }, ctx) => ({
    ...idsOf(ctx),
    clip: ctx.clip,
    audio_key: rendition.audio_key,
    params: ctx.profile.transcribe,
  }),
  'sample-frames': ({ 'transcode-clip': rendition }, ctx) => ({
    ...idsOf(ctx),
    clip: ctx.clip,
    video_key: rendition.video_key,
    duration_s: Math.max(rendition.duration_s, 0.04),
    params: ctx.profile.frames,
  }),
  'detect-objects': ({ 'sample-frames': { frames } }, ctx) => ({
    ...idsOf(ctx),
    clip: ctx.clip,
    frames,
    frame_interval_s: 1 / ctx.profile.frames.fps,
    params: ctx.profile.detect,
  }),
};

/** Builds a task's input from the request and its dependencies' outputs. Pure. */
export function buildInput(ref: TaskRef, ctx: InputContext, deps: DependencyOutputs): unknown {
  const outputs: Record<string, unknown> = {};
  for (const key of dependenciesOf(ref)) {
    const value = deps.get(key);
    if (value === undefined) throw new Error(`missing output of ${key}`);
    outputs[parseTaskKey(key).stage] = value;
  }
  const build = INPUTS[ref.stage] as InputBuilder<StageName>;
  return build(outputs as never, { ...ctx, clip: ref.clip as never });
}

/** transcode-clip's input for one piece that cut-clips made: the exact range, and what cut-clips measured. */
export function transcodeInputOf(
  ids: TaskIds,
  piece: ClipPiece,
  params: TranscodeParams,
): StageInput<'transcode-clip'> {
  return {
    ...ids,
    clip: piece.index,
    piece_key: piece.piece_key,
    piece_timestamp_s: piece.piece_timestamp_s,
    has_audio: piece.has_audio,
    offset_s: piece.offset_s,
    duration_s: Math.max(piece.end - piece.start, 0.04),
    params,
  };
}

/** The clips a fan-out stage's output names: one task per clip stage for each (TypeScript refuses a missing one). */
const CLIPS_OF: { [S in FanOutStageName]: (output: StageOutput<S>) => number[] } = {
  'cut-clips': (output) => output.pieces.map((p) => p.index),
};

/** The clips that `stage`'s output fans out to; undefined for a stage that does not fan out. */
export function clipsOf(stage: StageName, output: unknown): number[] | undefined {
  return Object.hasOwn(CLIPS_OF, stage) ? CLIPS_OF[stage as FanOutStageName](output as never) : undefined;
}
