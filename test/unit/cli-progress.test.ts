import { describe, expect, it } from 'vitest';
import { statusLines } from '../../cli/print.js';
import {
  clipProgress,
  estimate,
  estimateText,
  isStalled,
  ProgressView,
  renderBlock,
  renderLine,
  stageRows,
} from '../../cli/progress.js';
import { styleFor } from '../../cli/style.js';
import { CLIP_STAGES, REQUEST_STAGES } from '../../common/contracts/pipeline.js';
import type { RequestState, TaskState } from '../../common/contracts/state.js';
import { resolveProfile } from '../../common/profiles.js';
import { newRequestState } from '../../functions/orchestrator/request-state.js';

const NOW = new Date('2026-01-01T10:00:10.000Z');
const plain = styleFor(false, {});

function state(overrides: Partial<RequestState> = {}): RequestState {
  const accepted = newRequestState({
    id: 'r_test',
    namespace: 'default',
    profile: 'default',
    params: resolveProfile('default'),
    request: { video_uri: 'store://v.mp4', query: 'cars' },
    owner: 'o',
    at: new Date('2026-01-01T10:00:00.000Z'),
    ttlMs: 86_400_000,
    leaseMs: 30_000,
  });
  return {
    ...accepted,
    status: 'RUNNING',
    updated_at: '2026-01-01T10:00:09.000Z',
    runs: 1,
    tasks: {},
    ...overrides,
  };
}

const ok: TaskState = { status: 'SUCCEEDED', attempts: 1 };
const running: TaskState = { status: 'RUNNING', attempts: 1 };

describe('progress from state.json', () => {
  it('per-clip totals are unknown until the clips are cut', () => {
    const rows = stageRows(
      state({ stages: { 'extract-audio': { status: 'SUCCEEDED', done: 1, failed: 0, total: 1 } } }),
    );
    expect(rows.find((r) => r.stage === 'extract-audio')).toMatchObject({ done: 1, total: 1 });
    expect(rows.find((r) => r.stage === 'cut-clips')).toMatchObject({ done: 0, total: 1, status: 'PENDING' });
    expect(rows.find((r) => r.stage === 'transcode-clip')?.total).toBeUndefined();
    expect(renderBlock({ requestId: 'r_test', state: state(), elapsedMs: 0 }, NOW).join('\n')).toContain(
      'transcode-clip   ····················  0/?',
    );
  });

  it('a clip is done when all four of its tasks succeeded', () => {
    const s = state({
      clips: 2,
      tasks: {
        'transcode-clip/0000': ok,
        'transcribe-clip/0000': ok,
        'sample-frames/0000': ok,
        'detect-objects/0000': ok,
        'transcode-clip/0001': ok,
        'transcribe-clip/0001': ok,
        'sample-frames/0001': ok,
        'detect-objects/0001': running,
      },
    });
    expect(clipProgress(s)).toEqual({ done: 1, total: 2 });
    expect(renderLine({ requestId: 'r_test', state: s, elapsedMs: 1500 }, NOW)).toBe(
      `[1.5s] r_test RUNNING · ${Math.floor((100 * 7) / (8 + REQUEST_STAGES.length))} % · clips 1/2`,
    );
  });

  it("says how many of a stage's tasks were reused from results already in the bucket", () => {
    const reused: TaskState = { ...ok, attempts: 0, reused: true };
    const s = state({
      clips: 2,
      stages: {
        'extract-audio': { status: 'SUCCEEDED', done: 1, failed: 0, total: 1 },
        'transcode-clip': { status: 'RUNNING', done: 2, failed: 0, total: 2 },
      },
      tasks: { 'extract-audio': reused, 'transcode-clip/0000': reused, 'transcode-clip/0001': ok },
    });
    expect(stageRows(s).find((r) => r.stage === 'transcode-clip')).toMatchObject({ done: 2, reused: 1 });
    const block = renderBlock({ requestId: 'r_test', state: s, elapsedMs: 0 }, NOW).join('\n');
    expect(block).toContain('1/1 (1 reused)');
    expect(block).toContain('2/2 (1 reused)');
    expect(renderLine({ requestId: 'r_test', state: s, elapsedMs: 0 }, NOW)).toContain(
      'extract-audio 1/1 (1 reused)',
    );
    expect(statusLines(s, NOW, plain).find((l) => l.includes('extract-audio'))).toMatch(/1\/1 +· 1 reused$/);
  });

  it('a request waiting out the backoff of its source copy is not stalled, and says why it waits', () => {
    const waiting = state({
      status: 'INIT',
      lease: null,
      tasks: {
        'copy-source': {
          status: 'PENDING',
          attempts: 2,
          retry_at: '2026-01-01T10:02:00.000Z',
          error: { code: 'SOURCE_UNREACHABLE', message: 'could not fetch example.org' },
        },
      },
    });
    expect(isStalled(waiting, NOW)).toBe(false);
    const why = 'copying the source failed (attempt 2: SOURCE_UNREACHABLE — could not fetch example.org)';
    expect(statusLines(waiting, NOW, plain)).toContain(`  ${why}; next attempt at 2026-01-01T10:02:00.000Z`);
    expect(renderBlock({ requestId: 'r_test', state: waiting, elapsedMs: 0 }, NOW).join('\n')).toContain(why);
    expect(renderLine({ requestId: 'r_test', state: waiting, elapsedMs: 0 }, NOW)).toMatch(
      /source retry at 2026-01-01T10:02:00.000Z$/,
    );
    // Once retry_at has passed and nobody took it, it is stalled like any other.
    expect(isStalled(waiting, new Date('2026-01-01T10:02:01.000Z'))).toBe(true);
  });

  it('a request nobody holds the lease of is stalled, a finished one never', () => {
    expect(isStalled(state(), NOW)).toBe(false);
    expect(isStalled(state({ lease: { owner: 'o', expires_at: '2026-01-01T10:00:05.000Z' } }), NOW)).toBe(
      true,
    );
    expect(isStalled(state({ lease: null }), NOW)).toBe(true);
    expect(isStalled(state({ lease: null, status: 'SUCCEEDED' }), NOW)).toBe(false);
    expect(renderLine({ requestId: 'r_test', state: state({ lease: null }), elapsedMs: 0 }, NOW)).toMatch(
      /stalled$/,
    );
  });
});

describe('how far a request is, and the time left', () => {
  const at = (s: number) => new Date(Date.parse('2026-01-01T10:00:00.000Z') + s * 1000).toISOString();
  const done = (startS: number): TaskState => ({ status: 'SUCCEEDED', attempts: 1, started_at: at(startS) });
  const requestStages: Record<string, TaskState> = Object.fromEntries(
    REQUEST_STAGES.map((stage) => [stage, ok]),
  );
  const R = REQUEST_STAGES.length;
  /** `n` clips, each with `perClip` of its four tasks done (the first started at 2 s). */
  function clipTasks(n: number, perClip: (clip: number) => number): Record<string, TaskState> {
    const stages = CLIP_STAGES;
    const tasks: Record<string, TaskState> = {};
    for (let clip = 0; clip < n; clip++) {
      stages.forEach((stage, i) => {
        const key = `${stage}/${String(clip).padStart(4, '0')}`;
        tasks[key] = i < perClip(clip) ? done(2 + clip) : { status: 'PENDING', attempts: 0 };
      });
    }
    return tasks;
  }

  it.each([
    {
      name: 'clips not cut yet: nothing to count',
      s: { clips: null, tasks: { 'extract-audio': ok } },
      want: {},
    },
    {
      name: 'clips cut, none done: the share only',
      s: { clips: 4, tasks: { ...requestStages, ...clipTasks(4, () => 0) } },
      want: { percent: Math.floor((100 * R) / (16 + R)) },
    },
    {
      name: 'below the share of clip tasks it takes to judge the pace: no time left',
      // 3 of 16 clip tasks: fewer than ESTIMATE_AFTER of them
      s: { clips: 4, tasks: { ...requestStages, ...clipTasks(4, (c) => (c === 0 ? 3 : 0)) } },
      want: { percent: Math.floor((100 * (3 + R)) / (16 + R)) },
    },
    {
      name: 'half the clip tasks in 8 s (since 2 s): 8 s more',
      s: { clips: 4, tasks: { ...requestStages, ...clipTasks(4, (c) => (c < 2 ? 4 : 0)) } },
      want: { percent: Math.floor((100 * (8 + R)) / (16 + R)), remainingMs: 8_000 },
    },
    {
      name: 'a failed clip counts as finished: its tasks will not run',
      s: {
        clips: 2,
        failed_clips: [1],
        tasks: { ...requestStages, ...clipTasks(2, (c) => (c === 0 ? 2 : 0)) },
      },
      // 2 + 4 of 8 clip tasks finished in 8 s: 2 left, at 4/8 s each
      want: { percent: Math.floor((100 * (6 + R)) / (8 + R)), remainingMs: Math.round(8_000 / 3) },
    },
    {
      name: 'every task done (the final result being written): 100 %, no time left',
      s: { clips: 1, tasks: { ...requestStages, ...clipTasks(1, () => 4) } },
      want: { percent: 100 },
    },
    {
      name: 'finished: nothing',
      s: { status: 'SUCCEEDED' as const, clips: 1, tasks: { ...requestStages, ...clipTasks(1, () => 4) } },
      want: {},
    },
  ])('$name', ({ s, want }) => {
    expect(estimate(state(s as Partial<RequestState>), NOW)).toEqual(want);
  });

  it('shows in the block head, and the time left only in the written line, not in its change key', () => {
    const pct = Math.floor((100 * (8 + R)) / (16 + R));
    const s = state({ clips: 4, tasks: { ...requestStages, ...clipTasks(4, (c) => (c < 2 ? 4 : 0)) } });
    expect(estimateText(estimate(s, NOW))).toBe(`${pct} % · about 8.0s left`);
    expect(renderBlock({ requestId: 'r_test', state: s, elapsedMs: 10_000 }, NOW)[0]).toBe(
      `clipseek r_test · RUNNING · 10.0s · ${pct} % · about 8.0s left`,
    );
    expect(renderLine({ requestId: 'r_test', state: s, elapsedMs: 10_000 }, NOW)).toMatch(
      new RegExp(`^\\[10\\.0s\\] r_test RUNNING · ${pct} % · about 8\\.0s left · `),
    );
    expect(renderLine({ requestId: 'r_test', state: s, elapsedMs: 10_000 }, NOW, false)).toMatch(
      new RegExp(`^r_test RUNNING · ${pct} % · clips 2/4`),
    );
  });
});

describe('ProgressView', () => {
  function sink(isTTY: boolean) {
    const chunks: string[] = [];
    return { chunks, stream: { isTTY, columns: 60, write: (t: string) => chunks.push(t) } };
  }

  it('writes one line per change when not on a terminal', () => {
    const { chunks, stream } = sink(false);
    const view = new ProgressView(stream, false, () => NOW);
    view.update({ requestId: 'r_test', state: state(), elapsedMs: 100 });
    view.update({ requestId: 'r_test', state: state(), elapsedMs: 400 }); // only the time changed
    view.update({
      requestId: 'r_test',
      state: state({ stages: { 'extract-audio': { status: 'RUNNING', done: 0, failed: 0, total: 1 } } }),
      elapsedMs: 700,
    });
    expect(chunks).toEqual(['[0.1s] r_test RUNNING\n', '[0.7s] r_test RUNNING · extract-audio 0/1\n']);
  });

  it('redraws its block in place on a terminal, cut to the terminal width', () => {
    const { chunks, stream } = sink(true);
    const view = new ProgressView(stream, true, () => NOW);
    view.update({
      requestId: 'r_test',
      phase: 'uploading a very long file name that goes on and on.mp4',
      elapsedMs: 0,
    });
    view.update({ requestId: 'r_test', state: state(), elapsedMs: 100 });
    expect(chunks[0]!.startsWith('\x1b[2K')).toBe(true);
    // Back up over the two lines drawn before.
    expect(chunks[1]!.startsWith('\x1b[2F')).toBe(true);
    for (const line of chunks.join('').split('\n')) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI sequences
      expect(line.replace(/\x1b\[[0-9]*[A-Za-z]/g, '').length).toBeLessThanOrEqual(59);
    }
  });
});
