import {
  CLIP_STAGES,
  type ClipStageName,
  isClipStage,
  PIPELINE,
  type RequestStageName,
} from './contracts/pipeline.js';
import type { StageName } from './contracts/stages.js';
import { CorruptDataError, InternalError } from './errors.js';
import { clipId } from './keys.js';

/**
 * A task's name in state.json's `tasks`: "extract-audio" for a request stage,
 * "transcode-clip/0003" for a clip stage's task of clip 3 (the clip as in the
 * bucket's keys, clipId).
 */
export type TaskKey = RequestStageName | `${ClipStageName}/${string}`;

export type TaskRef = { stage: RequestStageName; clip?: undefined } | { stage: ClipStageName; clip: number };

export function taskKey(stage: RequestStageName): RequestStageName;
export function taskKey(stage: ClipStageName, clip: number): `${ClipStageName}/${string}`;
export function taskKey(stage: StageName, clip?: number): TaskKey;
export function taskKey(stage: StageName, clip?: number): TaskKey {
  if (isClipStage(stage) !== (clip !== undefined)) {
    const scope = isClipStage(stage) ? 'clip' : 'request';
    throw new InternalError(`${stage} is a ${scope} stage: no task for clip ${clip}`, { retryable: false });
  }
  return clip === undefined ? (stage as RequestStageName) : `${stage as ClipStageName}/${clipId(clip)}`;
}

/** The task key's stage and clip; a key taskKey cannot have made (a damaged state.json) is refused. */
export function parseTaskKey(key: string): TaskRef {
  const slash = key.indexOf('/');
  const stage = slash < 0 ? key : key.slice(0, slash);
  const text = key.slice(slash + 1);
  const clip = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Object.hasOwn(PIPELINE, stage)) {
    if (slash < 0 && !isClipStage(stage as StageName)) return { stage: stage as RequestStageName };
    if (
      slash >= 0 &&
      isClipStage(stage as StageName) &&
      Number.isSafeInteger(clip) &&
      clipId(clip) === text
    ) {
      return { stage: stage as ClipStageName, clip };
    }
  }
  throw new CorruptDataError('INVALID_TASK_KEY', `not a task key: ${JSON.stringify(key)}`);
}

/** state.json's tasks with their keys checked. */
export function taskEntries<T>(tasks: Readonly<Record<string, T>>): Array<[TaskKey, T]> {
  return Object.entries(tasks).map(([key, task]) => {
    parseTaskKey(key);
    return [key as TaskKey, task];
  });
}

/** Every clip-stage task of one clip. */
export function clipTaskKeys(clip: number): TaskKey[] {
  return CLIP_STAGES.map((stage) => taskKey(stage, clip));
}
