/**
 * What a request's media stages did, from its state.json: per function stage,
 * tasks invoked vs reused from another request's results (issue 15). Benches
 * that measure a full analysis check with `requireOwnWork` that nothing was
 * another request's: with shared results, a repeat on the same video would
 * silently cost nothing and the numbers would be wrong.
 */
import { FUNCTION_STAGES, type FunctionStageName, isFunctionStage } from '../../common/contracts/pipeline.js';
import type { RequestState } from '../../common/contracts/state.js';
import { loadManifest } from '../../common/manifests.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { parseTaskKey } from '../../common/task-key.js';
import type { Stack } from '../../test/helpers/stack-harness.js';

export interface StageWork {
  invoked: number;
  reused: number;
}

export interface MediaWork {
  invoked: number;
  reused: number;
  byStage: Map<FunctionStageName, StageWork>;
}

export function mediaWork(state: RequestState): MediaWork {
  const byStage = new Map<FunctionStageName, StageWork>(
    FUNCTION_STAGES.map((s) => [s, { invoked: 0, reused: 0 }]),
  );
  for (const [key, task] of Object.entries(state.tasks)) {
    const { stage } = parseTaskKey(key);
    if (!isFunctionStage(stage) || task.status !== 'SUCCEEDED') continue;
    byStage.get(stage)![task.reused ? 'reused' : 'invoked']++;
  }
  const sum = (k: keyof StageWork) => [...byStage.values()].reduce((n, w) => n + w[k], 0);
  return { invoked: sum('invoked'), reused: sum('reused'), byStage };
}

/** "sample-frames 6, detect-objects 6 invoked; 32 reused": the stages that ran. */
export function describeWork(work: MediaWork): string {
  const ran = [...work.byStage].filter(([, w]) => w.invoked > 0).map(([s, w]) => `${s} ${w.invoked}`);
  return `${ran.length ? ran.join(', ') : 'no stage'} invoked; ${work.reused} tasks reused`;
}

/**
 * Throws unless the request did its own media work: every media task's
 * manifest made by this request (invoked now, or before a resume and adopted),
 * none made by another request on the same video.
 */
export async function requireOwnWork(
  store: ObjectStore,
  state: RequestState,
  what: string,
): Promise<MediaWork> {
  const work = mediaWork(state);
  const others: string[] = [];
  for (const [key, task] of Object.entries(state.tasks)) {
    const { stage } = parseTaskKey(key);
    if (!isFunctionStage(stage) || task.status !== 'SUCCEEDED' || !task.manifest) continue;
    const manifest = await loadManifest(store, stage, task.manifest);
    if (manifest.request_id !== state.request_id) others.push(`${key} (made by ${manifest.request_id})`);
  }
  if (others.length > 0 || work.invoked + work.reused === 0)
    throw new Error(
      `${what} (${state.request_id}) did not analyse its video itself: ` +
        `${others.length ? `${others.length} tasks reused, e.g. ${others.slice(0, 3).join(', ')}` : 'no media task'}. ` +
        'Each measured run needs a video of its own (test/helpers/fresh-media.ts taggedCopy).',
    );
  return work;
}

/** Stage invocations the gateway has proxied so far (every request's): deltas count a run's calls. */
export function stageCalls(stack: Stack): number {
  return FUNCTION_STAGES.reduce((n, name) => n + (stack.gateway.functions.get(name)?.invocations ?? 0), 0);
}
