import type { ErrorInfo } from '../../common/contracts/common.js';
import { CLIP_STAGES, isFanOutStage, REQUEST_STAGES } from '../../common/contracts/pipeline.js';
import type { FinalStatus } from '../../common/contracts/request.js';
import type { StageName } from '../../common/contracts/stages.js';
import type { RequestState, StageSummary, TaskState } from '../../common/contracts/state.js';
import { isTerminal } from '../../common/state/lifecycle.js';
import { assertTaskTransition } from '../../common/state/transitions.js';
import { clipTaskKeys, parseTaskKey, type TaskKey, taskEntries } from '../../common/task-key.js';
import { dependenciesOf, dependentsOf, downstreamOf } from './dag.js';

/**
 * The orchestrator's decisions: deterministic functions of (state, event),
 * with no I/O. `applyEvent` updates the state it is given in place — a
 * request with 10 000 clips must stay O(1) per event — so callers that need
 * the previous state clone it first. The runner (driver.ts) does the effects.
 */
export type OrchestratorEvent =
  | { type: 'task-started'; key: TaskKey; at: string }
  | {
      type: 'task-succeeded';
      key: TaskKey;
      at: string;
      manifest: string;
      digest: string;
      duration_ms: number;
      /** The manifest at the digest existed already: nothing was invoked. */
      reused: boolean;
      /** For cut-clips: the clip indexes it produced, which fan out into per-clip tasks. */
      clips?: number[];
    }
  | {
      type: 'task-failed';
      key: TaskKey;
      at: string;
      error: ErrorInfo & { retryable: boolean };
      /** 0..1 from the runner's random source: keeps backoff jitter out of this module. */
      jitter: number;
      retry_after_ms?: number;
    }
  | { type: 'cancel-requested'; at: string };

export interface Decisions {
  /** Tasks whose inputs now exist: they may be launched. */
  ready: TaskKey[];
  /** Tasks to launch once their backoff has passed. */
  retry: Array<{ key: TaskKey; at: string }>;
  /** Set when the request is done (the driver finishes it: lifecycle.ts finishRequest). */
  finish?: { status: FinalStatus; error: ErrorInfo | null };
}

const none = (): Decisions => ({ ready: [], retry: [] });

export function newTask(): TaskState {
  return { status: 'PENDING', attempts: 0 };
}

/** The tasks a new request starts with (per-clip tasks appear once cut-clips has run). */
export function initialTasks(): RequestState['tasks'] {
  return Object.fromEntries(REQUEST_STAGES.map((stage) => [stage, newTask()]));
}

export function applyEvent(state: RequestState, event: OrchestratorEvent): Decisions {
  if (isTerminal(state.status)) return none();
  state.updated_at = event.at;
  switch (event.type) {
    case 'cancel-requested':
      state.cancel_requested = true;
      return { ...none(), finish: { status: 'CANCELLED', error: null } };
    case 'task-started':
      return onStarted(state, event.key, event.at);
    case 'task-succeeded':
      return onSucceeded(state, event);
    case 'task-failed':
      return onFailed(state, event);
  }
}

function taskOf(state: RequestState, key: TaskKey): TaskState {
  const task = state.tasks[key];
  if (!task) throw new Error(`unknown task ${key}`);
  return task;
}

/**
 * A task about to change is replaced by a copy, never changed in place: the
 * state writer keeps each task's JSON by object identity (state-json.ts), so a
 * request with 40 000 tasks serialises only the tasks that changed.
 */
function editTask(state: RequestState, key: TaskKey): TaskState {
  const copy = { ...taskOf(state, key) };
  state.tasks[key] = copy;
  return copy;
}

function onStarted(state: RequestState, key: TaskKey, at: string): Decisions {
  assertTaskTransition(key, taskOf(state, key).status, 'RUNNING');
  const task = editTask(state, key);
  task.status = 'RUNNING';
  task.attempts += 1;
  task.started_at = at;
  delete task.retry_at;
  const summary = stageSummary(state, parseTaskKey(key).stage);
  if (summary.status === 'PENDING') summary.status = 'RUNNING';
  return none();
}

function onSucceeded(
  state: RequestState,
  event: Extract<OrchestratorEvent, { type: 'task-succeeded' }>,
): Decisions {
  const status = taskOf(state, event.key).status;
  if (status === 'SUCCEEDED') return none(); // a duplicate report: nothing changes
  assertTaskTransition(event.key, status, 'SUCCEEDED');
  const task = editTask(state, event.key);
  const ref = parseTaskKey(event.key);
  Object.assign(task, {
    status: 'SUCCEEDED',
    finished_at: event.at,
    duration_ms: event.duration_ms,
    manifest: event.manifest,
    digest: event.digest,
  });
  if (event.reused) task.reused = true;
  delete task.error;
  delete task.retry_at;
  countDone(state, ref.stage, 'done');

  const clips = event.clips ?? [];
  if (isFanOutStage(ref.stage)) fanOut(state, clips);
  const ready = dependentsOf(ref, clips).filter((key) => isReady(state, key));
  return { ready, retry: [], ...finishIfDone(state) };
}

/** Creates every per-clip task once the clips are known. */
function fanOut(state: RequestState, clips: number[]): void {
  state.clips = clips.length;
  for (const stage of CLIP_STAGES) {
    state.stages[stage] = { status: 'PENDING', done: 0, failed: 0, total: clips.length };
  }
  for (const clip of clips) for (const key of clipTaskKeys(clip)) state.tasks[key] ??= newTask();
}

function onFailed(
  state: RequestState,
  event: Extract<OrchestratorEvent, { type: 'task-failed' }>,
): Decisions {
  const status = taskOf(state, event.key).status;
  if (status === 'SUCCEEDED' || status === 'FAILED') return none();
  const task = editTask(state, event.key);
  const ref = parseTaskKey(event.key);
  const { retryable, ...error } = event.error;
  task.error = { ...error, retryable };
  task.finished_at = event.at;

  const { max_attempts, busy_retries } = state.params.run;
  const allowed = error.status === 429 ? max_attempts + busy_retries : max_attempts;
  if (retryable && task.attempts < allowed) {
    // A failure before the stage was called (reading its inputs, looking for a manifest) leaves it PENDING.
    if (task.status !== 'PENDING') assertTaskTransition(event.key, task.status, 'PENDING');
    task.status = 'PENDING';
    const at = new Date(
      Date.parse(event.at) + backoffMs(state, task.attempts, event.jitter, event.retry_after_ms),
    );
    task.retry_at = at.toISOString();
    return { ready: [], retry: [{ key: event.key, at: task.retry_at }] };
  }

  assertTaskTransition(event.key, task.status, 'FAILED');
  task.status = 'FAILED';
  countDone(state, ref.stage, 'failed');
  const cause: ErrorInfo = {
    ...error,
    details: { ...error.details, task: event.key, attempts: task.attempts },
  };
  if (ref.clip === undefined) return { ...none(), finish: { status: 'FAILED', error: cause } };

  for (const key of downstreamOf(ref)) {
    const status = state.tasks[key]?.status;
    if (!status || status === 'FAILED' || status === 'SUCCEEDED') continue;
    const later = editTask(state, key);
    later.status = 'FAILED';
    later.error = { code: 'UPSTREAM_FAILED', message: `${event.key} failed`, retryable: false };
    countDone(state, parseTaskKey(key).stage, 'failed');
  }
  if (!state.failed_clips.includes(ref.clip)) state.failed_clips.push(ref.clip);
  if (tooManyFailedClips(state)) return { ...none(), finish: { status: 'FAILED', error: cause } };
  return { ready: [], retry: [], ...finishIfDone(state) };
}

/** A task's backoff, from the request's run parameters. */
export function backoffMs(state: RequestState, attempts: number, jitter: number, retryAfterMs = 0): number {
  const { backoff_base_ms, backoff_max_ms } = state.params.run;
  return exponentialBackoff(backoff_base_ms, backoff_max_ms, attempts, jitter, retryAfterMs);
}

/** Exponential backoff with jitter in [½, 1] of the step, and never sooner than Retry-After. */
export function exponentialBackoff(
  baseMs: number,
  maxMs: number,
  attempts: number,
  jitter: number,
  retryAfterMs = 0,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.max(Math.round(step * (0.5 + 0.5 * jitter)), Math.min(retryAfterMs, maxMs));
}

function stageSummary(state: RequestState, stage: StageName): StageSummary {
  let summary = state.stages[stage];
  if (!summary) {
    summary = { status: 'PENDING', done: 0, failed: 0, total: 1 };
    state.stages[stage] = summary;
  }
  return summary;
}

function countDone(state: RequestState, stage: StageName, field: 'done' | 'failed'): void {
  const summary = stageSummary(state, stage);
  summary[field] += 1;
  if (summary.done + summary.failed >= summary.total)
    summary.status = summary.done > 0 ? 'SUCCEEDED' : 'FAILED';
}

function isReady(state: RequestState, key: TaskKey): boolean {
  const task = state.tasks[key];
  if (task?.status !== 'PENDING') return false;
  return dependenciesOf(parseTaskKey(key)).every((dep) => state.tasks[dep]?.status === 'SUCCEEDED');
}

function finishIfDone(state: RequestState): Pick<Decisions, 'finish'> {
  if (REQUEST_STAGES.some((stage) => state.tasks[stage]?.status !== 'SUCCEEDED')) return {};
  for (const stage of CLIP_STAGES) {
    const s = state.stages[stage];
    if (!s || s.done + s.failed < s.total) return {};
  }
  return { finish: { status: 'SUCCEEDED', error: null } };
}

/**
 * What to do when a driver takes a request (first run or resume): tasks a dead
 * driver left RUNNING go back to PENDING (their manifests, if they finished,
 * are reused before anything is invoked), stage counters are recounted, and
 * every task whose inputs exist is ready.
 */
export function resumeDecisions(state: RequestState, now: Date): Decisions {
  if (isTerminal(state.status)) return none();
  if (state.cancel_requested) return { ...none(), finish: { status: 'CANCELLED', error: null } };
  const decisions = none();
  for (const [key, task] of Object.entries(state.tasks)) {
    if (task.status === 'RUNNING') state.tasks[key] = { ...task, status: 'PENDING' };
  }
  recountStages(state);
  for (const [key, task] of taskEntries(state.tasks)) {
    if (!isReady(state, key)) continue;
    if (task.retry_at && Date.parse(task.retry_at) > now.getTime())
      decisions.retry.push({ key, at: task.retry_at });
    else decisions.ready.push(key);
  }
  const failedRequestTask = REQUEST_STAGES.map((s) => [s, state.tasks[s]] as const).find(
    ([, t]) => t?.status === 'FAILED',
  );
  if (failedRequestTask) {
    const [key, task] = failedRequestTask;
    return {
      ...none(),
      finish: { status: 'FAILED', error: task?.error ?? { code: 'STAGE_FAILED', message: key } },
    };
  }
  // A driver that decided FAILED for too many failed clips may have died before saving that.
  if (tooManyFailedClips(state)) {
    const [key, task] = Object.entries(state.tasks).find(
      ([k, t]) =>
        parseTaskKey(k).clip !== undefined && t.status === 'FAILED' && t.error?.code !== 'UPSTREAM_FAILED',
    ) ?? ['clip', undefined];
    return {
      ...none(),
      finish: { status: 'FAILED', error: task?.error ?? { code: 'STAGE_FAILED', message: key } },
    };
  }
  return { ...decisions, ...finishIfDone(state) };
}

function tooManyFailedClips(state: RequestState): boolean {
  const failed = state.failed_clips.length;
  return failed > 0 && (failed > state.params.run.tolerated_clip_failures || failed === state.clips);
}

function recountStages(state: RequestState): void {
  const counts = new Map<StageName, StageSummary>();
  for (const [key, task] of Object.entries(state.tasks)) {
    const { stage } = parseTaskKey(key);
    const s = counts.get(stage) ?? { status: 'PENDING', done: 0, failed: 0, total: 0 };
    s.total += 1;
    if (task.status === 'SUCCEEDED') s.done += 1;
    if (task.status === 'FAILED') s.failed += 1;
    if (task.status !== 'PENDING' || task.attempts > 0) s.status = 'RUNNING';
    counts.set(stage, s);
  }
  for (const [stage, s] of counts) {
    if (s.done + s.failed >= s.total) s.status = s.done > 0 ? 'SUCCEEDED' : 'FAILED';
    state.stages[stage] = { ...state.stages[stage], ...s };
  }
}
