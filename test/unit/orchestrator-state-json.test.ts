import { describe, expect, it } from 'vitest';
import { RequestState } from '../../common/contracts/state.js';
import { StateJsonWriter } from '../../common/state/state-json.js';
import type { TaskKey } from '../../common/task-key.js';
import { applyEvent, type OrchestratorEvent, resumeDecisions } from '../../functions/orchestrator/decide.js';
import { makeState, SOURCE_RETRY, T0 } from '../helpers/state.js';

const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const started = (key: TaskKey): OrchestratorEvent => ({ type: 'task-started', key, at: at(1) });
const ok = (key: TaskKey, clips?: number[]): OrchestratorEvent => ({
  type: 'task-succeeded',
  key,
  at: at(2),
  manifest: `results/default/${key.split('/')[0]}/${'d'.repeat(64)}/manifest.json`,
  digest: 'd'.repeat(64),
  duration_ms: 10,
  reused: false,
  ...(clips ? { clips } : {}),
});
const fail = (key: TaskKey, retryable: boolean): OrchestratorEvent => ({
  type: 'task-failed',
  key,
  at: at(3),
  error: { code: retryable ? 'STAGE_UNAVAILABLE' : 'UNREADABLE_MEDIA', message: 'x', retryable },
  jitter: 0.5,
});

describe('StateJsonWriter: the JSON of unchanged tasks is reused', () => {
  it('writes what JSON.stringify writes after every kind of change, including resume and cascades', () => {
    const state = makeState({ tolerated_clip_failures: 3 });
    const writer = new StateJsonWriter();
    const same = () => {
      const written = writer.serialize(state);
      expect(JSON.parse(written)).toEqual(JSON.parse(JSON.stringify(state)));
      expect(RequestState.safeParse(JSON.parse(written)).success).toBe(true);
    };
    same();
    const events: OrchestratorEvent[] = [
      started('extract-audio'),
      ok('extract-audio'),
      started('segment-speech'),
      ok('segment-speech'),
      started('cut-clips'),
      ok('cut-clips', [0, 1, 2]),
      started('transcode-clip/0000'),
      fail('transcode-clip/0000', true), // retried: PENDING with retry_at
      started('transcode-clip/0000'),
      ok('transcode-clip/0000'),
      started('transcode-clip/0001'),
      fail('transcode-clip/0001', false), // fails its clip's later tasks (UPSTREAM_FAILED)
      started('sample-frames/0000'),
    ];
    for (const event of events) {
      applyEvent(state, event, SOURCE_RETRY);
      same();
    }
    resumeDecisions(state, new Date(at(4)), SOURCE_RETRY); // RUNNING tasks back to PENDING
    same();
    expect(state.tasks['sample-frames/0000']?.status).toBe('PENDING');
    expect(state.tasks['detect-objects/0001']?.error?.code).toBe('UPSTREAM_FAILED');
  });

  it('a task changed in place after it was written fails loudly instead of being written stale', () => {
    const state = makeState();
    new StateJsonWriter().serialize(state);
    expect(() => {
      state.tasks['extract-audio']!.attempts = 5;
    }).toThrow(TypeError);
  });
});
