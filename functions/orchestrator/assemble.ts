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
 * Builds final.json from the manifests its tasks recorded in state.json (the
 * shared results, whichever request made them): the clips, what
 * was heard and seen in each, the time ranges that answer the query (ranked),
 * how much of the video was analysed, and whether the question could be
 * answered from it at all. Reads only; the caller writes it.
 */
export async function assembleFinal(
  store: ObjectStore,
  state: RequestState,
  finishedAt: Date,
): Promise<FinalResult> {
  const id = state.request_id;
  const read = async <S extends StageName>(stage: S, clip?: number): Promise<StageOutput<S> | undefined> => {
    const task = state.tasks[taskKey(stage, clip)];
    if (task?.status !== 'SUCCEEDED' || !task.manifest) return undefined;
    return (await readManifest(store, stage, task.manifest))?.output;
  };

  const source = await read('copy-source');
  const audio = await read('extract-audio');
  const pieces = (await read('cut-clips'))?.pieces ?? [];
  const failed = new Set(state.failed_clips);
  const evidence: ClipEvidence[] = [];
  const clipList: ClipSummaryT[] = [];
  for (const piece of pieces) {
    const [rendition, transcript, frames, objects] = await Promise.all([
      read('transcode-clip', piece.index),
      read('transcribe-clip', piece.index),
      read('sample-frames', piece.index),
      read('detect-objects', piece.index),
    ]);
    const clip = {
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
    };
    evidence.push(clip);
    clipList.push({
      clip: piece.index,
      start: piece.start,
      end: piece.end,
      ...(rendition ? { video_key: rendition.video_key } : {}),
      ...(frames ? { thumbnail_key: frames.thumbnail_key } : {}),
      ...(transcript ? { transcript: transcript.text } : {}),
      labels: clip.labels.map((l) => l.label),
      failed: failed.has(piece.index),
    });
  }

  const understood = understandQuery(state.request.query);
  const analysed = evidence.filter((c) => !failed.has(c.clip));
  const matches =
    state.status === 'FAILED'
      ? []
      : rankRanges(understood, analysed, { frameIntervalS: 1 / state.params.frames.fps });
  const segmented = await read('segment-speech');
  const heardNothing = segmented?.no_speech === true || analysed.every((c) => c.words.length === 0);
  const unanswerable = pieces.length > 0 && understood.objects.length === 0 && heardNothing;
  const duration = audio?.probe.duration_s;
  return {
    schema_version: 1,
    request_id: id,
    status: state.status,
    query: state.request.query,
    understood,
    answerable: !unanswerable,
    ...(unanswerable && understood.speech_only.length > 0 ? { note: cannotSeeNote(understood) } : {}),
    matches,
    ...(duration !== undefined && pieces.length > 0 ? { coverage: coverageOf(analysed, duration) } : {}),
    clips: pieces.length,
    clip_list: clipList,
    failed_clips: [...failed].sort((a, b) => a - b).map((clip) => ({ clip, error: clipError(state, clip) })),
    ...(source && audio ? { source: { key: source.source_key, duration_s: audio.probe.duration_s } } : {}),
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
