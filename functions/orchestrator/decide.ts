import type { ErrorInfo } from '../../common/contracts/common.js';
import { CLIP_STAGES, isFanOutStage, REQUEST_STAGES, ROWS } from '../../common/contracts/pipeline.js';
import type { FinalStatus } from '../../common/contracts/request.js';
import type { StageName } from '../../common/contracts/stages.js';
import type { RequestState, StageSummary, TaskState } from '../../common/contracts/state.js';
import { isTerminal, markRunning } from '../../common/state/lifecycle.js';
import { assertTaskTransition } from '../../common/state/transitions.js';
import { clipTaskKeys, parseTaskKey, type TaskKey, taskEntries } from '../../common/task-key.js';
import type { OrchestratorConfig } from './config.js';
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
  /**
   * Set when a task waits out a backoff that nobody drives the request through
   * (a row with retry 'source'): the driver lets the request go once nothing
   * runs, and the sweeper resumes it after `until`.
   */
  pause?: { key: TaskKey; until: string };
  /** Set when the request is done (the driver finishes it: lifecycle.ts finishRequest). */
  finish?: { status: FinalStatus; error: ErrorInfo | null };
}

/** The orchestrator's retry policy for the rows with retry 'source' (the profile's run params are the others'). */
export type SourceRetry = Pick<
  OrchestratorConfig,
  'sourceAttempts' | 'sourceBackoffMs' | 'sourceBackoffMaxMs'
>;

const none = (): Decisions => ({ ready: [], retry: [] });

export function newTask(): TaskState {
  return { status: 'PENDING', attempts: 0 };
}

/** The tasks a new request starts with (per-clip tasks appear once cut-clips has run). */
export function initialTasks(): RequestState['tasks'] {
  return Object.fromEntries(REQUEST_STAGES.map((stage) => [stage, newTask()]));
}

export function applyEvent(state: RequestState, event: OrchestratorEvent, source: SourceRetry): Decisions {
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
      return onFailed(state, event, source);
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
  // The first task to succeed is the source copy (everything runs after it): the request runs.
  markRunning(state);

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
  source: SourceRetry,
): Decisions {
  const status = taskOf(state, event.key).status;
  if (status === 'SUCCEEDED' || status === 'FAILED') return none();
  const task = editTask(state, event.key);
  const ref = parseTaskKey(event.key);
  const { retryable, ...error } = event.error;
  task.error = { ...error, retryable };
  task.finished_at = event.at;

  const policy = retryPolicy(state, ref.stage, source);
  const allowed = error.status === 429 ? policy.max_attempts + policy.busy_retries : policy.max_attempts;
  if (retryable && task.attempts < allowed) {
    // A failure before the stage was called (reading its inputs, looking for a manifest) leaves it PENDING.
    if (task.status !== 'PENDING') assertTaskTransition(event.key, task.status, 'PENDING');
    task.status = 'PENDING';
    const { backoff_base_ms: base, backoff_max_ms: max } = policy;
    const waitMs = exponentialBackoff(base, max, task.attempts, event.jitter, event.retry_after_ms);
    task.retry_at = new Date(Date.parse(event.at) + waitMs).toISOString();
    if (policy.pauses) return { ...none(), pause: { key: event.key, until: task.retry_at } };
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

interface RetryPolicy {
  max_attempts: number;
  /** Extra attempts after a 429 (the stage was busy, not failing). */
  busy_retries: number;
  backoff_base_ms: number;
  backoff_max_ms: number;
  /** Nobody drives the request while the task waits (Decisions.pause). */
  pauses: boolean;
}

/** How a stage's tasks are retried: its row names the policy (pipeline.ts). */
function retryPolicy(state: RequestState, stage: StageName, source: SourceRetry): RetryPolicy {
  const row = ROWS[stage];
  if (row.runs === 'orchestrator' && row.retry === 'source') {
    return {
      max_attempts: source.sourceAttempts,
      busy_retries: 0,
      backoff_base_ms: source.sourceBackoffMs,
      backoff_max_ms: source.sourceBackoffMaxMs,
      pauses: true,
    };
  }
  return { ...state.params.run, pauses: false };
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
 * every task whose inputs exist is ready. A task the orchestrator runs itself
 * died with that driver: its attempt is spent, and when it was the last one
 * the task fails.
 */
export function resumeDecisions(state: RequestState, now: Date, source: SourceRetry): Decisions {
  if (isTerminal(state.status)) return none();
  if (state.cancel_requested) return { ...none(), finish: { status: 'CANCELLED', error: null } };
  const decisions = none();
  for (const [key, task] of taskEntries(state.tasks)) {
    if (task.status === 'RUNNING') state.tasks[key] = interruptedTask(state, key, task, source, now);
  }
  recountStages(state);
  for (const [key, task] of taskEntries(state.tasks)) {
    if (!isReady(state, key)) continue;
    const { stage } = parseTaskKey(key);
    if (!task.retry_at || Date.parse(task.retry_at) <= now.getTime()) decisions.ready.push(key);
    else if (retryPolicy(state, stage, source).pauses) decisions.pause ??= { key, until: task.retry_at };
    else decisions.retry.push({ key, at: task.retry_at });
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

/** A task a dead driver left RUNNING: PENDING again, or FAILED when it ran in that driver and spent its last attempt. */
function interruptedTask(
  state: RequestState,
  key: TaskKey,
  task: TaskState,
  source: SourceRetry,
  now: Date,
): TaskState {
  const { stage } = parseTaskKey(key);
  const row = ROWS[stage];
  if (row.runs === 'function' || task.attempts < retryPolicy(state, stage, source).max_attempts) {
    return { ...task, status: 'PENDING' };
  }
  const cause = task.error ?? {
    code: row.interrupted,
    message: `${key} was interrupted ${task.attempts} time(s): its driver stopped during each`,
    retryable: false,
  };
  return {
    ...task,
    status: 'FAILED',
    finished_at: now.toISOString(),
    error: { ...cause, details: { ...cause.details, task: key, attempts: task.attempts } },
  };
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
