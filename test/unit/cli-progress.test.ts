import { describe, expect, it } from 'vitest';
import { statusLines } from '../../cli/print.js';
import {
  clipProgress,
  isStalled,
  ProgressView,
  renderBlock,
  renderLine,
  stageRows,
} from '../../cli/progress.js';
import { styleFor } from '../../cli/style.js';
import type { RequestState, TaskState } from '../../common/contracts/state.js';
import { resolveProfile } from '../../common/profiles.js';
import { newRequestState } from '../../functions/orchestrator/request-state.js';

const NOW = new Date('2026-01-01T10:00:10.000Z');
const plain = styleFor(false, {});

function state(overrides: Partial<RequestState> = {}): RequestState {
  const accepted = newRequestState({
    id: 'r_test',
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
      '[1.5s] r_test RUNNING · clips 1/2',
    );
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
