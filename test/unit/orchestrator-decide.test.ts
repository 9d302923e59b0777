import { describe, expect, it } from 'vitest';
import { TRANSCODE_LEAD } from '../../common/contracts/pipeline.js';
import type { RequestState } from '../../common/contracts/state.js';
import { clipTaskKeys, type TaskKey, taskKey } from '../../common/task-key.js';
import { buildInput } from '../../functions/orchestrator/dag.js';
import {
  applyEvent,
  type Decisions,
  exponentialBackoff,
  initialTasks,
  type OrchestratorEvent,
  resumeDecisions,
} from '../../functions/orchestrator/decide.js';
import { ReadyQueue } from '../../functions/orchestrator/ready-queue.js';
import { makeState, SOURCE_RETRY, T0 } from '../helpers/state.js';

const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const started = (key: TaskKey, s = 0): OrchestratorEvent => ({ type: 'task-started', key, at: at(s) });
const ok = (
  key: TaskKey,
  s = 1,
  extra: Partial<Extract<OrchestratorEvent, { type: 'task-succeeded' }>> = {},
): OrchestratorEvent => ({
  type: 'task-succeeded',
  key,
  at: at(s),
  manifest: `results/default/${key.split('/')[0]}/${'d'.repeat(64)}/manifest.json`,
  digest: 'd'.repeat(64),
  duration_ms: 1000,
  reused: false,
  ...extra,
});
const fail = (
  key: TaskKey,
  retryable: boolean,
  s = 1,
  code = retryable ? 'STAGE_UNAVAILABLE' : 'UNREADABLE_MEDIA',
): OrchestratorEvent => ({
  type: 'task-failed',
  key,
  at: at(s),
  error: { code, message: code, retryable },
  jitter: 0.5,
});

/** Applies events in order, returning the decisions of the last one. */
function play(state: RequestState, events: OrchestratorEvent[]): Decisions {
  let last: Decisions = { ready: [], retry: [] };
  for (const e of events) last = applyEvent(state, e, SOURCE_RETRY);
  return last;
}

/** Runs the request-level stages to cut-clips with `clips` clips. */
function throughCut(state: RequestState, clips: number[]): Decisions {
  return play(state, [
    started('extract-audio'),
    ok('extract-audio'),
    started('segment-speech'),
    ok('segment-speech'),
    started('cut-clips'),
    ok('cut-clips', 3, { clips }),
  ]);
}

/** Every task of one clip succeeds, in the order the pipeline lists them. */
function succeedClip(state: RequestState, clip: number): Decisions {
  return play(
    state,
    clipTaskKeys(clip).flatMap((key) => [started(key), ok(key)]),
  );
}

describe('decide: the per-clip DAG', () => {
  it.each<[TaskKey, TaskKey[]]>([
    ['extract-audio', ['segment-speech']],
    ['segment-speech', ['cut-clips']],
  ])('%s succeeding makes %j ready', (key, expected) => {
    const state = makeState();
    if (key === 'segment-speech') play(state, [started('extract-audio'), ok('extract-audio')]);
    expect(play(state, [started(key), ok(key)]).ready).toEqual(expected);
  });

  it('cut-clips fans out one task chain per clip; transcodes are ready', () => {
    const state = makeState();
    const d = throughCut(state, [0, 1, 2]);
    expect(d.ready).toEqual(['transcode-clip/0000', 'transcode-clip/0001', 'transcode-clip/0002']);
    expect(state.clips).toBe(3);
    expect(Object.keys(state.tasks)).toHaveLength(4 + 3 * 4);
    expect(state.stages['detect-objects']).toEqual({ status: 'PENDING', done: 0, failed: 0, total: 3 });
  });

  it.each<[TaskKey, TaskKey[]]>([
    ['transcode-clip/0001', ['transcribe-clip/0001', 'sample-frames/0001']],
    ['sample-frames/0001', ['detect-objects/0001']],
    ['transcribe-clip/0001', []],
  ])('%s succeeding makes %j ready', (key, expected) => {
    const state = makeState();
    throughCut(state, [0, 1]);
    if (key !== 'transcode-clip/0001')
      play(state, [started('transcode-clip/0001'), ok('transcode-clip/0001')]);
    expect(play(state, [started(key), ok(key)]).ready).toEqual(expected);
  });

  it('finishes SUCCEEDED exactly when the last per-clip task succeeds', () => {
    const state = makeState();
    throughCut(state, [0]);
    const chain: TaskKey[] = ['transcode-clip/0000', 'transcribe-clip/0000', 'sample-frames/0000'];
    for (const key of chain) expect(play(state, [started(key), ok(key)]).finish).toBeUndefined();
    expect(play(state, [started('detect-objects/0000'), ok('detect-objects/0000')]).finish).toEqual({
      status: 'SUCCEEDED',
      error: null,
    });
  });

  it('counts attempts and records times, manifest, digest and reuse', () => {
    const state = makeState();
    play(state, [started('extract-audio', 0), ok('extract-audio', 2, { reused: true })]);
    expect(state.tasks['extract-audio']).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 1,
      started_at: at(0),
      finished_at: at(2),
      reused: true,
      digest: 'd'.repeat(64),
      manifest: `results/default/extract-audio/${'d'.repeat(64)}/manifest.json`,
    });
  });

  it('a reused manifest (no start) succeeds a PENDING task without counting an attempt', () => {
    const state = makeState();
    const d = play(state, [ok('extract-audio', 1, { reused: true })]);
    expect(state.tasks['extract-audio']?.attempts).toBe(0);
    expect(d.ready).toEqual(['segment-speech']);
  });

  it('a duplicate success report changes nothing', () => {
    const state = makeState();
    play(state, [started('extract-audio'), ok('extract-audio')]);
    const before = structuredClone(state);
    expect(play(state, [ok('extract-audio', 9)])).toEqual({ ready: [], retry: [] });
    expect(state.tasks).toEqual(before.tasks);
  });
});

describe('decide: failures and retries', () => {
  it.each([
    [1, true, 'retry'],
    [2, true, 'retry'],
    [3, true, 'fail'],
    [1, false, 'fail'],
  ] as const)('attempt %i, retryable=%s → %s (max_attempts 3)', (attempts, retryable, expected) => {
    const state = makeState({ max_attempts: 3 });
    const events: OrchestratorEvent[] = [];
    for (let i = 1; i < attempts; i++) events.push(started('extract-audio'), fail('extract-audio', true));
    events.push(started('extract-audio'), fail('extract-audio', retryable));
    const d = play(state, events);
    if (expected === 'retry') {
      expect(d.retry).toHaveLength(1);
      expect(state.tasks['extract-audio']?.status).toBe('PENDING');
      expect(d.finish).toBeUndefined();
    } else {
      expect(d.retry).toEqual([]);
      expect(state.tasks['extract-audio']?.status).toBe('FAILED');
      expect(d.finish?.status).toBe('FAILED');
      expect(d.finish?.error?.details).toMatchObject({ task: 'extract-audio', attempts });
    }
  });

  it('a request-level failure fails the request with that stage cause', () => {
    const state = makeState();
    const d = play(state, [started('extract-audio'), fail('extract-audio', false, 1, 'NO_VIDEO_STREAM')]);
    expect(d.finish).toMatchObject({ status: 'FAILED', error: { code: 'NO_VIDEO_STREAM' } });
  });

  it('backoff grows exponentially with jitter and honours Retry-After', () => {
    const backoff = (attempts: number, jitter: number, retryAfterMs?: number) =>
      exponentialBackoff(100, 1000, attempts, jitter, retryAfterMs);
    expect(backoff(1, 1)).toBe(100);
    expect(backoff(2, 1)).toBe(200);
    expect(backoff(3, 0)).toBe(200);
    expect(backoff(10, 1)).toBe(1000);
    expect(backoff(1, 0, 700)).toBe(700);
  });

  it('schedules the retry after the backoff', () => {
    const state = makeState({ backoff_base_ms: 1000 });
    const d = play(state, [started('extract-audio', 0), fail('extract-audio', true, 10)]);
    expect(d.retry).toEqual([{ key: 'extract-audio', at: at(10.75) }]);
  });

  it('a clip failing for good fails its later tasks, and the request when none are tolerated', () => {
    const state = makeState({ tolerated_clip_failures: 0 });
    throughCut(state, [0, 1]);
    const d = play(state, [
      started('transcode-clip/0001'),
      fail('transcode-clip/0001', false, 4, 'FFMPEG_FAILED'),
    ]);
    expect(d.finish).toMatchObject({ status: 'FAILED', error: { code: 'FFMPEG_FAILED' } });
    for (const key of ['transcribe-clip/0001', 'sample-frames/0001', 'detect-objects/0001']) {
      expect(state.tasks[key]).toMatchObject({ status: 'FAILED', error: { code: 'UPSTREAM_FAILED' } });
    }
    expect(state.failed_clips).toEqual([1]);
  });

  it('tolerated clip failures let the request finish with partial results', () => {
    const state = makeState({ tolerated_clip_failures: 1 });
    throughCut(state, [0, 1]);
    play(state, [started('transcode-clip/0001'), ok('transcode-clip/0001')]);
    expect(
      play(state, [started('sample-frames/0001'), fail('sample-frames/0001', false)]).finish,
    ).toBeUndefined();
    expect(state.tasks['detect-objects/0001']?.error?.code).toBe('UPSTREAM_FAILED');
    let d = succeedClip(state, 0);
    expect(d.finish).toBeUndefined(); // transcribe-clip/0001 still open
    d = play(state, [started('transcribe-clip/0001'), ok('transcribe-clip/0001')]);
    expect(d.finish).toEqual({ status: 'SUCCEEDED', error: null });
    expect(state.failed_clips).toEqual([1]);
  });

  it('fails when every clip failed, even within tolerance', () => {
    const state = makeState({ tolerated_clip_failures: 5 });
    throughCut(state, [0]);
    expect(
      play(state, [started('transcode-clip/0000'), fail('transcode-clip/0000', false)]).finish?.status,
    ).toBe('FAILED');
  });

  it('cancel finishes CANCELLED; nothing is decided after a final status', () => {
    const state = makeState();
    expect(play(state, [{ type: 'cancel-requested', at: at(1) }]).finish).toEqual({
      status: 'CANCELLED',
      error: null,
    });
    state.status = 'CANCELLED';
    expect(play(state, [started('extract-audio')])).toEqual({ ready: [], retry: [] });
  });

  it('rejects invalid transitions', () => {
    const state = makeState();
    play(state, [started('extract-audio'), ok('extract-audio')]);
    expect(() => applyEvent(state, started('extract-audio'), SOURCE_RETRY)).toThrow(/not allowed/);
  });
});

describe('decide: resume', () => {
  it('tasks left RUNNING by a dead driver are ready again; SUCCEEDED ones are not', () => {
    const state = makeState();
    throughCut(state, [0, 1]);
    play(state, [started('transcode-clip/0000'), ok('transcode-clip/0000'), started('transcode-clip/0001')]);
    const d = resumeDecisions(state, new Date(at(5)), SOURCE_RETRY);
    expect(d.ready.sort()).toEqual(['sample-frames/0000', 'transcode-clip/0001', 'transcribe-clip/0000']);
    expect(state.tasks['transcode-clip/0001']?.status).toBe('PENDING');
    expect(state.stages['transcode-clip']).toMatchObject({ done: 1, total: 2 });
  });

  it('a task still in backoff is scheduled, not ready', () => {
    const state = makeState({ backoff_base_ms: 60_000 });
    play(state, [started('extract-audio', 0), fail('extract-audio', true, 1)]);
    const d = resumeDecisions(state, new Date(at(2)), SOURCE_RETRY);
    expect(d.ready).toEqual([]);
    expect(d.retry).toHaveLength(1);
  });

  it('finishes a request whose work was all done when its driver died', () => {
    const state = makeState();
    throughCut(state, [0]);
    succeedClip(state, 0);
    expect(resumeDecisions(state, new Date(at(9)), SOURCE_RETRY).finish?.status).toBe('SUCCEEDED');
  });

  it('fails a request whose driver died after a clip failed for good (nothing tolerated)', () => {
    const state = makeState({ tolerated_clip_failures: 0 });
    throughCut(state, [0, 1]);
    play(state, [started('transcode-clip/0001'), fail('transcode-clip/0001', false, 4, 'FFMPEG_FAILED')]);
    succeedClip(state, 0);
    const d = resumeDecisions(state, new Date(at(9)), SOURCE_RETRY);
    expect(d.finish).toMatchObject({ status: 'FAILED', error: { code: 'FFMPEG_FAILED' } });
  });

  it('a cancel requested while no driver ran finishes CANCELLED', () => {
    const state = makeState();
    state.cancel_requested = true;
    expect(resumeDecisions(state, new Date(at(1)), SOURCE_RETRY).finish?.status).toBe('CANCELLED');
  });

  it('a request whose source is copied starts with extract-audio only', () => {
    expect(resumeDecisions(makeState(), new Date(T0), SOURCE_RETRY).ready).toEqual(['extract-audio']);
  });

  it('a new request starts with copy-source only', () => {
    const fresh = { ...makeState(), tasks: initialTasks(), stages: {} };
    expect(resumeDecisions(fresh, new Date(T0), SOURCE_RETRY).ready).toEqual(['copy-source']);
  });
});

describe('ready queue', () => {
  const drain = (q: ReadyQueue) => {
    const order: string[] = [];
    for (let k = q.pop(); k !== undefined; k = q.pop()) order.push(k);
    return order;
  };

  it('clip by clip; within a clip frames and detection before transcription', () => {
    const q = new ReadyQueue();
    for (const key of [
      'transcribe-clip/0001',
      'detect-objects/0000',
      'sample-frames/0001',
      'transcribe-clip/0000',
    ] as const) {
      q.push(key);
    }
    q.push('sample-frames/0001'); // already queued: ignored
    expect(drain(q)).toEqual([
      'detect-objects/0000',
      'transcribe-clip/0000',
      'sample-frames/0001',
      'transcribe-clip/0001',
    ]);
  });

  it(`transcodes run ${TRANSCODE_LEAD} clips ahead of the rest; request-level stages come first`, () => {
    const q = new ReadyQueue();
    for (let n = 0; n < 6; n++) q.push(taskKey('transcode-clip', n));
    q.push('sample-frames/0000');
    q.push('cut-clips');
    const order = drain(q);
    expect(order[0]).toBe('cut-clips');
    // sample-frames of clip 0 ranks with the transcode TRANSCODE_LEAD clips later, and after it.
    expect(order.indexOf('sample-frames/0000')).toBe(
      order.indexOf(taskKey('transcode-clip', TRANSCODE_LEAD)) + 1,
    );
    expect(order.filter((k) => k.startsWith('transcode'))).toEqual(
      [0, 1, 2, 3, 4, 5].map((n) => taskKey('transcode-clip', n)),
    );
  });
});

describe('decide: a busy stage (429)', () => {
  it('keeps retrying past max_attempts, up to busy_retries more', () => {
    const state = makeState({ max_attempts: 2, busy_retries: 3 });
    const busy: OrchestratorEvent = {
      type: 'task-failed',
      key: 'extract-audio',
      at: at(1),
      error: { code: 'STAGE_BUSY', message: 'busy', retryable: true, status: 429 },
      jitter: 0,
    };
    for (let i = 0; i < 4; i++) expect(play(state, [started('extract-audio'), busy]).retry).toHaveLength(1);
    expect(play(state, [started('extract-audio'), busy]).finish?.status).toBe('FAILED');
    expect(state.tasks['extract-audio']?.attempts).toBe(5);
  });
});

describe('dag: inputs', () => {
  const COPIED = {
    source_key: 'requests/r_x/input/source.mp4',
    sha256: 'c'.repeat(64),
    size_bytes: 9,
    name: 'a.mp4',
  };
  it('refuses more clips than run.max_clips instead of dropping the end of the video', () => {
    const profile = makeState({ max_clips: 2 }).params;
    const clips = [0, 1, 2].map((index) => ({ index, start: index * 10, end: index * 10 + 10 }));
    const deps = new Map<TaskKey, unknown>([
      ['copy-source', COPIED],
      ['segment-speech', { speech: [], clips, no_speech: true }],
    ]);
    expect(() =>
      buildInput(
        { stage: 'cut-clips' },
        { namespace: 'default', requestId: 'r_x', videoUri: 'store://uploads/a.mp4', profile },
        deps,
      ),
    ).toThrow(expect.objectContaining({ code: 'TOO_MANY_CLIPS', retryable: false }));
  });
});
