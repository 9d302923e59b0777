import { CLIP_STAGES, isClipStage, REQUEST_STAGES, STAGE_NAMES } from '../common/contracts/pipeline.js';
import type { StageName } from '../common/contracts/stages.js';
import type { RequestState } from '../common/contracts/state.js';
import { isTerminal, leaseState, sourceTask, waitsToCopySource } from '../common/state/lifecycle.js';
import { clipTaskKeys, parseTaskKey } from '../common/task-key.js';

/**
 * Live progress from state.json: pure functions that turn a state into text
 * (tested without a terminal), and a view that draws them — redrawn in place
 * on a TTY, one line per change otherwise (logs, CI, pipes).
 */
export interface Snapshot {
  requestId: string;
  state?: RequestState | undefined;
  /** What happens before state.json exists ("uploading …"). */
  phase?: string | undefined;
  elapsedMs: number;
}

export interface StageRow {
  stage: StageName;
  status: string;
  done: number;
  failed: number;
  /** Tasks that succeeded from results already in the bucket (another request's, or before a resume). */
  reused: number;
  /** Undefined while the number of clips is not known yet. */
  total: number | undefined;
}

export function stageRows(state: RequestState): StageRow[] {
  const reused = new Map<StageName, number>();
  for (const [key, task] of Object.entries(state.tasks)) {
    if (!task.reused) continue;
    const { stage } = parseTaskKey(key);
    reused.set(stage, (reused.get(stage) ?? 0) + 1);
  }
  return STAGE_NAMES.map((stage) => {
    const summary = state.stages[stage];
    const total = summary?.total ?? (isClipStage(stage) ? (state.clips ?? undefined) : 1);
    return {
      stage,
      status: summary?.status ?? 'PENDING',
      done: summary?.done ?? 0,
      failed: summary?.failed ?? 0,
      reused: reused.get(stage) ?? 0,
      total,
    };
  });
}

/** Per stage: summed and longest task time, and attempts beyond the first (retries). */
export function stageTaskTimes(
  state: RequestState,
): Map<string, { totalMs: number; maxMs: number; retries: number }> {
  const times = new Map<string, { totalMs: number; maxMs: number; retries: number }>();
  for (const [key, task] of Object.entries(state.tasks)) {
    const { stage } = parseTaskKey(key);
    const t = times.get(stage) ?? { totalMs: 0, maxMs: 0, retries: 0 };
    t.totalMs += task.duration_ms ?? 0;
    t.maxMs = Math.max(t.maxMs, task.duration_ms ?? 0);
    t.retries += Math.max(0, task.attempts - 1);
    times.set(stage, t);
  }
  return times;
}

/** Clips whose every per-clip task has succeeded, out of all clips (undefined before cut-clips). */
export function clipProgress(state: RequestState): { done: number; total: number | undefined } {
  if (state.clips === null) return { done: 0, total: undefined };
  let done = 0;
  for (let clip = 0; clip < state.clips; clip++) {
    if (clipTaskKeys(clip).every((key) => state.tasks[key]?.status === 'SUCCEEDED')) done++;
  }
  return { done, total: state.clips };
}

export interface Estimate {
  /** Tasks finished, 0–100, once their number is known (the clips are cut). */
  percent?: number;
  /** Time left, once enough clip tasks are done to judge their pace. */
  remainingMs?: number;
}

/** The share of clip tasks done before their pace is taken for the pace of the rest. */
const ESTIMATE_AFTER = 0.2;

/**
 * How far an unfinished request is, in tasks (a failed clip's tasks count as
 * finished: they will not run), and the time left at the pace clip tasks have
 * gone since the first of them started. The request stages before them are
 * short next to the clips, so clip tasks are what is counted for the pace.
 */
export function estimate(state: RequestState, now: Date): Estimate {
  if (isTerminal(state.status) || state.clips === null) return {};
  const finished = (key: string) => {
    const status = state.tasks[key]?.status;
    return status === 'SUCCEEDED' || status === 'FAILED';
  };
  const failedClips = new Set(state.failed_clips);
  let clipDone = 0;
  let firstStart = Number.POSITIVE_INFINITY;
  for (let clip = 0; clip < state.clips; clip++) {
    for (const key of clipTaskKeys(clip)) {
      if (failedClips.has(clip) || finished(key)) clipDone++;
      const started = state.tasks[key]?.started_at;
      if (started) firstStart = Math.min(firstStart, Date.parse(started));
    }
  }
  const clipTotal = state.clips * CLIP_STAGES.length;
  const done = clipDone + REQUEST_STAGES.filter(finished).length;
  const percent = Math.floor((100 * done) / (clipTotal + REQUEST_STAGES.length));
  const spent = now.getTime() - firstStart;
  if (clipDone === clipTotal || clipDone < clipTotal * ESTIMATE_AFTER || !(spent > 0)) return { percent };
  return { percent, remainingMs: Math.round((spent * (clipTotal - clipDone)) / clipDone) };
}

/** "45 % · about 12s left", or as much of it as is known; empty when nothing is. */
export function estimateText(e: Estimate): string {
  return [
    e.percent === undefined ? '' : `${e.percent} %`,
    e.remainingMs === undefined ? '' : `about ${formatElapsed(e.remainingMs)} left`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * Nobody holds the lease of an unfinished request: it waits for the sweeper or
 * a resume. Not while it waits out the backoff before copying its source again.
 */
export function isStalled(state: RequestState, now: Date): boolean {
  return !isTerminal(state.status) && !waitsToCopySource(state, now) && leaseState(state, now) !== 'live';
}

/** Why and until when a request waits to copy its source again; undefined when it does not. */
export function sourceWaitNote(state: RequestState, now: Date): string | undefined {
  const copy = sourceTask(state);
  if (!copy || !waitsToCopySource(state, now)) return undefined;
  const why = copy.error ? `: ${copy.error.code} — ${copy.error.message}` : '';
  return `copying the source failed (attempt ${copy.attempts}${why}); next attempt at ${copy.retry_at}`;
}

export function elapsedOf(state: RequestState, now: Date): number {
  const end = isTerminal(state.status) ? Date.parse(state.updated_at) : now.getTime();
  return Math.max(0, end - Date.parse(state.created_at));
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const BAR_WIDTH = 20;

function bar(done: number, failed: number, total: number | undefined): string {
  if (!total) return '·'.repeat(BAR_WIDTH);
  const full = Math.round((done / total) * BAR_WIDTH);
  const bad = Math.min(BAR_WIDTH - full, Math.round((failed / total) * BAR_WIDTH));
  return '█'.repeat(full) + '✗'.repeat(bad) + '░'.repeat(BAR_WIDTH - full - bad);
}

function count(row: StageRow): string {
  const total = row.total === undefined ? '?' : String(row.total);
  const notes = [
    ...(row.failed ? [`${row.failed} failed`] : []),
    ...(row.reused ? [`${row.reused} reused`] : []),
  ];
  return `${row.done}/${total}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

/** The multi-line block drawn on a terminal. */
export function renderBlock(s: Snapshot, now: Date): string[] {
  const head = [
    `clipseek ${s.requestId}`,
    s.state?.status ?? 'SUBMITTING',
    formatElapsed(s.elapsedMs),
    s.state ? estimateText(estimate(s.state, now)) : '',
  ]
    .filter(Boolean)
    .join(' · ');
  if (!s.state) return [head, `  ${s.phase ?? 'waiting for the orchestrator…'}`];
  const width = Math.max(...STAGE_NAMES.map((n) => n.length));
  const lines = [head];
  for (const row of stageRows(s.state)) {
    lines.push(`  ${row.stage.padEnd(width)}  ${bar(row.done, row.failed, row.total)}  ${count(row)}`);
  }
  const clips = clipProgress(s.state);
  lines.push(`  clips done: ${clips.total === undefined ? 'not cut yet' : `${clips.done}/${clips.total}`}`);
  if (isStalled(s.state, now)) lines.push(`  ${stallNote(s.requestId)}`);
  const waiting = sourceWaitNote(s.state, now);
  if (waiting) lines.push(`  ${waiting}`);
  return lines;
}

/** The one line written per change when stderr is not a terminal. Without the time, it is the change key. */
export function renderLine(s: Snapshot, now: Date, withTime = true): string {
  const time = withTime ? `[${formatElapsed(s.elapsedMs)}] ` : '';
  if (!s.state) return `${time}${s.requestId} ${s.phase ?? 'waiting for the orchestrator…'}`;
  const stages = stageRows(s.state)
    .filter((r) => r.status !== 'PENDING' || r.done > 0)
    .map((r) => `${r.stage} ${count(r)}`);
  const clips = clipProgress(s.state);
  // The time left changes on every poll: only in the written line, not in the change key.
  const { percent, remainingMs } = estimate(s.state, now);
  const parts = [
    `${s.requestId} ${s.state.status}`,
    estimateText(withTime ? { percent, remainingMs } : { percent }),
    ...stages,
    ...(clips.total === undefined ? [] : [`clips ${clips.done}/${clips.total}`]),
    ...(isStalled(s.state, now) ? ['stalled'] : []),
    ...(waitsToCopySource(s.state, now) ? [`source retry at ${sourceTask(s.state)?.retry_at}`] : []),
  ];
  return time + parts.filter(Boolean).join(' · ');
}

export function stallNote(requestId: string): string {
  return `no orchestrator is driving it right now: the sweeper resumes it within a minute, or run \`clipseek resume ${requestId}\``;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Draws snapshots on `out` (stderr). */
export class ProgressView {
  private drawn = 0;
  private lastKey = '';

  constructor(
    private readonly out: ProgressStream,
    private readonly tty: boolean = out.isTTY === true,
    private readonly now: () => Date = () => new Date(),
  ) {}

  update(snapshot: Snapshot): void {
    const now = this.now();
    if (this.tty) {
      // Lines longer than the terminal would wrap and break the redraw: cut them.
      const width = Math.max(20, (this.out.columns || 200) - 1); // 0 or unset: width unknown
      const lines = renderBlock(snapshot, now).map((l) =>
        l.length > width ? `${l.slice(0, width - 1)}…` : l,
      );
      // Back to the top of the previous block, then rewrite each line.
      const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
      this.out.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}\x1b[J`);
      this.drawn = lines.length;
      return;
    }
    const key = renderLine(snapshot, now, false);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.out.write(`${renderLine(snapshot, now)}\n`);
  }
}
