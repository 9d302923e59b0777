import { describe, expect, it } from 'vitest';
import { RequestState } from '../../common/contracts/state.js';
import { StateJsonWriter } from '../../common/state/state-json.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { applyEvent, type OrchestratorEvent, resumeDecisions } from '../../functions/orchestrator/decide.js';
import { OutputCache } from '../../functions/orchestrator/task-runner.js';
import { makeState, T0 } from '../helpers/state.js';

const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const started = (key: string): OrchestratorEvent => ({ type: 'task-started', key, at: at(1) });
const ok = (key: string, clips?: number[]): OrchestratorEvent => ({
  type: 'task-succeeded',
  key,
  at: at(2),
  manifest: `requests/r_test0001/${key}/manifest.json`,
  duration_ms: 10,
  adopted: false,
  ...(clips ? { clips } : {}),
});
const fail = (key: string, retryable: boolean): OrchestratorEvent => ({
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
      applyEvent(state, event);
      same();
    }
    resumeDecisions(state, new Date(at(4))); // RUNNING tasks back to PENDING
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

describe('OutputCache: outputs stay until their last reader took them', () => {
  function countingStore(outputs: Record<string, unknown>) {
    const reads: string[] = [];
    const store = {
      async getJson(key: string) {
        reads.push(key);
        const hit = Object.entries(outputs).find(([k]) => key.includes(k));
        if (!hit) throw new Error(`no ${key}`);
        return { value: { output: hit[1] }, etag: 'e' };
      },
    } as unknown as ObjectStore;
    return { store, reads };
  }

  it('a transcode output serves its two readers, then is read from its manifest', async () => {
    const { store, reads } = countingStore({ 'transcode-clip/0003/': { from: 'bucket' } });
    const cache = new OutputCache(store, 'r_test0001');
    cache.set('transcode-clip/0003', { from: 'memory' });
    expect(await cache.get('transcode-clip/0003')).toEqual({ from: 'memory' });
    expect(await cache.get('transcode-clip/0003')).toEqual({ from: 'memory' });
    expect(cache.size).toBe(0);
    expect(await cache.get('transcode-clip/0003')).toEqual({ from: 'bucket' });
    expect(reads).toHaveLength(1);
  });

  it('request-level outputs stay, and tasks starting together share one read of the manifest', async () => {
    const { store, reads } = countingStore({ 'cut-clips': { pieces: [] } });
    const cache = new OutputCache(store, 'r_test0001');
    const all = await Promise.all(Array.from({ length: 50 }, () => cache.get('cut-clips')));
    expect(all.every((o) => JSON.stringify(o) === '{"pieces":[]}')).toBe(true);
    await cache.get('cut-clips');
    expect(reads).toHaveLength(1);
  });

  it('outputs nobody reads are not kept', () => {
    const cache = new OutputCache(countingStore({}).store, 'r_test0001');
    cache.set('detect-objects/0001', { labels: [] });
    cache.set('transcribe-clip/0001', { text: '' });
    expect(cache.size).toBe(0);
  });
});
