import { describe, expect, it } from 'vitest';
import type { RequestState, TaskState } from '../../common/contracts/state.js';
import { takeLease, waitsToCopySource } from '../../common/state/lifecycle.js';
import type { TaskKey } from '../../common/task-key.js';
import { buildInput } from '../../functions/orchestrator/dag.js';
import {
  applyEvent,
  type Decisions,
  type OrchestratorEvent,
  resumeDecisions,
} from '../../functions/orchestrator/decide.js';
import { makeState, SOURCE_RETRY, T0 } from '../helpers/state.js';

/** copy-source: the first task of every request, run by the orchestrator itself (pipeline.ts). */
const NOW = new Date(T0);
const later = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const KEY = 'copy-source' satisfies TaskKey;
const COPIED = {
  source_key: `results/default/copy-source/${'c'.repeat(64)}/source.mp4`,
  sha256: 'c'.repeat(64),
  size_bytes: 1234,
  name: 'a.mp4',
};

/** A request still waiting for its source copy, with this copy task and lease. */
function waiting(copy: TaskState | undefined, lease: RequestState['lease'] = null): RequestState {
  const s = makeState();
  return {
    ...s,
    status: 'INIT',
    runs: 0,
    lease,
    stages: {},
    tasks: { ...s.tasks, [KEY]: copy ?? { status: 'PENDING', attempts: 0 } },
  };
}

const started = (ms = 0): OrchestratorEvent => ({ type: 'task-started', key: KEY, at: later(ms) });
const failed = (retryable: boolean, ms = 10, code = 'SOURCE_UNREACHABLE'): OrchestratorEvent => ({
  type: 'task-failed',
  key: KEY,
  at: later(ms),
  error: { code, message: code, retryable, status: retryable ? 503 : 422 },
  jitter: 0.5,
});
const succeeded: OrchestratorEvent = {
  type: 'task-succeeded',
  key: KEY,
  at: later(20),
  manifest: 'requests/r_test0001/copy-source/manifest.json',
  digest: 'c'.repeat(64),
  duration_ms: 20,
  reused: false,
};

function play(state: RequestState, events: OrchestratorEvent[]): Decisions {
  let last: Decisions = { ready: [], retry: [] };
  for (const e of events) last = applyEvent(state, e, SOURCE_RETRY);
  return last;
}

/** What a driver taking the request does (driver.ts drive): the verdict on the copy, and its attempt started. */
function take(s: RequestState): 'copy' | 'waiting' | 'busy' | 'exhausted' {
  if (waitsToCopySource(s, NOW)) return 'waiting';
  if (!takeLease(s, 'me', NOW, 30_000)) return 'busy';
  const d = resumeDecisions(s, NOW, SOURCE_RETRY);
  if (d.finish) return 'exhausted';
  if (d.pause) return 'waiting';
  expect(d.ready).toEqual([KEY]);
  applyEvent(s, started(), SOURCE_RETRY);
  return 'copy';
}

describe('copy-source: whether a driver copies the source now', () => {
  it.each([
    { name: 'first attempt', copy: undefined, lease: null, verdict: 'copy', attempts: 1 },
    {
      name: 'a failed attempt whose backoff has passed',
      copy: { status: 'PENDING', attempts: 1, retry_at: later(-1) },
      lease: null,
      verdict: 'copy',
      attempts: 2,
    },
    {
      name: 'an attempt left RUNNING by a driver that died (lease expired)',
      copy: { status: 'RUNNING', attempts: 1 },
      lease: { owner: 'dead', expires_at: later(-1) },
      verdict: 'copy',
      attempts: 2,
    },
    {
      name: 'a backoff still running',
      copy: { status: 'PENDING', attempts: 1, retry_at: later(5000) },
      lease: null,
      verdict: 'waiting',
      attempts: 1,
    },
    {
      name: 'another live driver copying',
      copy: { status: 'RUNNING', attempts: 1 },
      lease: { owner: 'other', expires_at: later(5000) },
      verdict: 'busy',
      attempts: 1,
    },
    {
      name: 'every attempt interrupted',
      copy: { status: 'RUNNING', attempts: 3 },
      lease: null,
      verdict: 'exhausted',
      attempts: 3,
    },
  ] as const)('$name → $verdict', ({ copy, lease, verdict, attempts }) => {
    const s = waiting(copy as TaskState | undefined, lease);
    expect(take(s)).toBe(verdict);
    expect(s.tasks[KEY]?.attempts).toBe(attempts);
    if (verdict === 'copy') {
      expect(s.tasks[KEY]?.status).toBe('RUNNING');
      expect(s.lease?.owner).toBe('me');
      expect(s.status).toBe('INIT'); // until the copy has succeeded
    }
    if (verdict === 'exhausted') {
      expect(s.tasks[KEY]).toMatchObject({ status: 'FAILED', error: { code: 'SOURCE_COPY_INTERRUPTED' } });
      const d = resumeDecisions(s, NOW, SOURCE_RETRY);
      expect(d.finish).toMatchObject({
        status: 'FAILED',
        error: { code: 'SOURCE_COPY_INTERRUPTED', details: { task: KEY, attempts: 3 } },
      });
    }
  });

  it('an interrupted last attempt fails with the error of the attempt before it, when there was one', () => {
    const error = { code: 'SOURCE_UNREACHABLE', message: 'could not fetch', retryable: true };
    const s = waiting({ status: 'RUNNING', attempts: 3, error });
    expect(resumeDecisions(s, NOW, SOURCE_RETRY).finish?.error).toMatchObject({
      code: 'SOURCE_UNREACHABLE',
      details: { attempts: 3 },
    });
  });
});

describe('copy-source: its own retry policy (SOURCE_ATTEMPTS, SOURCE_BACKOFF_MS doubling)', () => {
  it('a retryable failure waits out the source backoff with nobody driving: a pause, not a timer', () => {
    const s = waiting(undefined);
    take(s);
    const d = play(s, [failed(true)]);
    // 1000 ms, doubling, with jitter 0.5 → 750 ms after the failure.
    const retryAt = later(10 + 750);
    expect(d).toEqual({ ready: [], retry: [], pause: { key: KEY, until: retryAt } });
    expect(s.tasks[KEY]).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      retry_at: retryAt,
      error: { code: 'SOURCE_UNREACHABLE', retryable: true },
    });
    expect(s.status).toBe('INIT');
    // The second wait doubles.
    s.tasks[KEY] = { ...s.tasks[KEY]!, retry_at: later(-1) };
    take(s);
    expect(play(s, [failed(true, 20)]).pause?.until).toBe(later(20 + 1500));
  });

  it('a resume before retry_at pauses again: nothing is ready', () => {
    const s = waiting({ status: 'PENDING', attempts: 1, retry_at: later(5000) });
    expect(resumeDecisions(s, NOW, SOURCE_RETRY)).toEqual({
      ready: [],
      retry: [],
      pause: { key: KEY, until: later(5000) },
    });
  });

  it('is not the profile policy: more attempts than run.max_attempts, and none beyond SOURCE_ATTEMPTS', () => {
    const s = waiting(undefined);
    s.params.run.max_attempts = 1;
    for (let attempt = 1; attempt < SOURCE_RETRY.sourceAttempts; attempt++) {
      s.tasks[KEY] = { ...s.tasks[KEY]!, retry_at: later(-1) };
      take(s);
      expect(play(s, [failed(true)]).pause).toBeDefined();
    }
    s.tasks[KEY] = { ...s.tasks[KEY]!, retry_at: later(-1) };
    take(s);
    const d = play(s, [failed(true)]);
    expect(d.pause).toBeUndefined();
    expect(d.finish).toMatchObject({
      status: 'FAILED',
      error: { code: 'SOURCE_UNREACHABLE', details: { task: KEY, attempts: SOURCE_RETRY.sourceAttempts } },
    });
    expect(s.tasks[KEY]?.status).toBe('FAILED');
  });

  it('a failure that cannot pass fails the request at once, with its cause', () => {
    const s = waiting(undefined);
    take(s);
    const d = play(s, [failed(false, 10, 'SOURCE_TOO_LARGE')]);
    expect(d.finish).toMatchObject({ status: 'FAILED', error: { code: 'SOURCE_TOO_LARGE', status: 422 } });
    expect(s.tasks[KEY]).toMatchObject({ status: 'FAILED', attempts: 1 });
  });

  it('succeeding starts the request (INIT → RUNNING) and makes extract-audio ready', () => {
    const s = waiting(undefined);
    take(s);
    expect(play(s, [succeeded]).ready).toEqual(['extract-audio']);
    expect(s.status).toBe('RUNNING');
    expect(s.tasks[KEY]).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });
});

describe('copy-source: what runs after it reads its output', () => {
  const profile = makeState().params;
  const ctx = {
    namespace: 'default',
    requestId: 'r_test0001',
    videoUri: 'https://example.com/a.mp4',
    profile,
  };

  it('its input is the namespace, the request and its video_uri', () => {
    expect(buildInput({ stage: KEY }, ctx, new Map())).toEqual({
      namespace: 'default',
      request_id: 'r_test0001',
      video_uri: 'https://example.com/a.mp4',
    });
  });

  it('extract-audio and cut-clips take source_key from it', () => {
    const clips = [{ index: 0, start: 0, end: 10 }];
    const deps = new Map<TaskKey, unknown>([
      [KEY, COPIED],
      ['segment-speech', { speech: [], clips, no_speech: true }],
    ]);
    expect(buildInput({ stage: 'extract-audio' }, ctx, deps)).toMatchObject({
      source_key: COPIED.source_key,
    });
    expect(buildInput({ stage: 'cut-clips' }, ctx, deps)).toMatchObject({ source_key: COPIED.source_key });
  });
});
