import type { Coverage, ErrorInfo } from '../../common/contracts/common.js';
import type { ClipSummary, FinalResult } from '../../common/contracts/final.js';
import type { StageName, StageOutput } from '../../common/contracts/stages.js';
import type { RequestState } from '../../common/contracts/state.js';
import { readManifest } from '../../common/manifests.js';
import {
  type ClipEvidence,
  complement,
  type Interval,
  rankRanges,
  totalLength,
  understandQuery,
} from '../../common/matching/index.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { parseTaskKey, taskKey } from '../../common/task-key.js';

type ClipSummaryT = ReturnType<typeof ClipSummary.parse>;

/**
 * What a request's stage outputs say about its video, read once from the
 * manifests its tasks recorded in state.json (the shared results, whichever
 * request made them): final.json (finalFrom) and the video index document
 * (video-index.ts) are both made from it, so a search answers as the request would.
 */
export interface Evidence {
  /** The source as copy-source stored it (its key, sha256, size, name); undefined when the copy did not finish. */
  source: StageOutput<'copy-source'> | undefined;
  /** Every clip cut, in clip order, with what its per-clip stages found. */
  clips: ClipEvidence[];
  /** The clips that did not fail: what a query is answered from. */
  analysed: ClipEvidence[];
  failed: ReadonlySet<number>;
  /** Clips whose transcript was read (final.json's clip_list gives only theirs a transcript). */
  transcribed: ReadonlySet<number>;
  /** Seconds between sampled frames. */
  frameIntervalS: number;
  /** The source's duration, from extract-audio's probe; undefined when that did not finish. */
  durationS: number | undefined;
  coverage: Coverage | undefined;
  /** segment-speech found no speech, or no analysed clip holds a word. */
  heardNothing: boolean;
}

/** Reads the stage manifests of a request's succeeded tasks. Reads only. */
export async function readEvidence(store: ObjectStore, state: RequestState): Promise<Evidence> {
  const read = async <S extends StageName>(stage: S, clip?: number): Promise<StageOutput<S> | undefined> => {
    const task = state.tasks[taskKey(stage, clip)];
    if (task?.status !== 'SUCCEEDED' || !task.manifest) return undefined;
    return (await readManifest(store, stage, task.manifest))?.output;
  };

  const source = await read('copy-source');
  const audio = await read('extract-audio');
  const pieces = (await read('cut-clips'))?.pieces ?? [];
  const failed = new Set(state.failed_clips);
  const clips: ClipEvidence[] = [];
  const transcribed = new Set<number>();
  for (const piece of pieces) {
    const [rendition, transcript, frames, objects] = await Promise.all([
      read('transcode-clip', piece.index),
      read('transcribe-clip', piece.index),
      read('sample-frames', piece.index),
      read('detect-objects', piece.index),
    ]);
    if (transcript) transcribed.add(piece.index);
    clips.push({
      clip: piece.index,
      start: piece.start,
      end: piece.end,
      words: transcript?.words ?? [],
      transcript: transcript?.text ?? '',
      labels: objects?.labels ?? [],
      detections: objects?.detections ?? [],
      frames: frames?.frames ?? [],
      ...(rendition ? { video_key: rendition.video_key } : {}),
      ...(frames ? { thumbnail_key: frames.thumbnail_key } : {}),
    });
  }
  const analysed = clips.filter((c) => !failed.has(c.clip));
  const segmented = await read('segment-speech');
  const durationS = audio?.probe.duration_s;
  return {
    source,
    clips,
    analysed,
    failed,
    transcribed,
    frameIntervalS: 1 / state.params.frames.fps,
    durationS,
    coverage: durationS !== undefined && clips.length > 0 ? coverageOf(analysed, durationS) : undefined,
    heardNothing: segmented?.no_speech === true || analysed.every((c) => c.words.length === 0),
  };
}

/**
 * Builds final.json from the stage manifests in the bucket: the clips, what
 * was heard and seen in each, the time ranges that answer the query (ranked),
 * how much of the video was analysed, and whether the question could be
 * answered from it at all. Reads only; the caller writes it.
 */
export async function assembleFinal(
  store: ObjectStore,
  state: RequestState,
  finishedAt: Date,
): Promise<FinalResult> {
  return finalFrom(state, await readEvidence(store, state), finishedAt);
}

/** final.json of a request from its evidence: pure. */
export function finalFrom(state: RequestState, evidence: Evidence, finishedAt: Date): FinalResult {
  const { source, clips, analysed, failed, transcribed, coverage, durationS } = evidence;
  const clipList: ClipSummaryT[] = clips.map((clip) => ({
    clip: clip.clip,
    start: clip.start,
    end: clip.end,
    ...(clip.video_key !== undefined ? { video_key: clip.video_key } : {}),
    ...(clip.thumbnail_key !== undefined ? { thumbnail_key: clip.thumbnail_key } : {}),
    ...(transcribed.has(clip.clip) ? { transcript: clip.transcript } : {}),
    labels: clip.labels.map((l) => l.label),
    failed: failed.has(clip.clip),
  }));
  const understood = understandQuery(state.request.query);
  const matches =
    state.status === 'FAILED'
      ? []
      : rankRanges(understood, analysed, { frameIntervalS: evidence.frameIntervalS });
  const unanswerable = clips.length > 0 && understood.objects.length === 0 && evidence.heardNothing;
  return {
    schema_version: 1,
    request_id: state.request_id,
    status: state.status,
    query: state.request.query,
    understood,
    answerable: !unanswerable,
    ...(unanswerable && understood.speech_only.length > 0 ? { note: cannotSeeNote(understood) } : {}),
    matches,
    ...(coverage ? { coverage } : {}),
    clips: clips.length,
    clip_list: clipList,
    failed_clips: [...failed].sort((a, b) => a - b).map((clip) => ({ clip, error: clipError(state, clip) })),
    ...(source && durationS !== undefined
      ? { source: { key: source.source_key, duration_s: durationS } }
      : {}),
    metrics: { wall_ms: finishedAt.getTime() - Date.parse(state.created_at), stages: stageMetrics(state) },
    error: state.error,
  };
}

/** The share of [0, duration] that clips whose per-clip stages all finished cover. */
export function coverageOf(
  analysed: ReadonlyArray<{ start: number; end: number }>,
  durationS: number,
): Coverage {
  const spans = analysed.map((c): Interval => [Math.max(0, c.start), Math.min(durationS, c.end)]);
  const analysedS = Math.min(durationS, totalLength(spans));
  const round3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    duration_s: durationS,
    analysed_s: round3(analysedS),
    ratio: durationS > 0 ? Math.min(1, round3(analysedS / durationS)) : 0,
    // Slivers under a millisecond are rounding at clip edges, not unanalysed time.
    unanalysed: complement(spans, 0, durationS)
      .filter(([a, b]) => b - a >= 0.001)
      .map(([a, b]) => [round3(a), round3(b)]),
  };
}

/** Why a question about a video without speech cannot be answered, and what might be asked instead. */
function cannotSeeNote(understood: FinalResult['understood']): string {
  const words = understood.speech_only.map((w) => `"${w}"`).join(', ');
  const near = understood.suggestions.flatMap((s) => s.labels);
  return (
    `This cannot be answered from this video: the object detector cannot see ${words} ` +
    '(it knows the 80 COCO objects), and the video has no speech to search for it.' +
    (near.length ? ` Near objects it can see: ${[...new Set(near)].join(', ')}.` : '')
  );
}

function clipError(state: RequestState, clip: number): ErrorInfo {
  for (const [key, task] of Object.entries(state.tasks)) {
    if (
      parseTaskKey(key).clip === clip &&
      task.status === 'FAILED' &&
      task.error?.code !== 'UPSTREAM_FAILED'
    ) {
      return task.error ?? { code: 'STAGE_FAILED', message: key };
    }
  }
  return { code: 'STAGE_FAILED', message: `clip ${clip} failed` };
}

function stageMetrics(state: RequestState): FinalResult['metrics']['stages'] {
  const stages: FinalResult['metrics']['stages'] = {};
  for (const [key, task] of Object.entries(state.tasks)) {
    if (task.duration_ms === undefined) continue;
    const { stage } = parseTaskKey(key);
    const m = stages[stage] ?? { tasks: 0, total_ms: 0, max_ms: 0 };
    stages[stage] = m;
    m.tasks += 1;
    m.total_ms += task.duration_ms;
    m.max_ms = Math.max(m.max_ms, task.duration_ms);
  }
  return stages;
}
