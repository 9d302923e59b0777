import { describe, expect, it } from 'vitest';
import type { StageName, StageOutput } from '../../common/contracts/stages.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { OutputCache } from '../../functions/orchestrator/task-runner.js';

describe('OutputCache: outputs stay until their last reader took them', () => {
  /** A store holding manifests of these outputs (by a part of their key); counts its reads. */
  function countingStore(
    outputs: Record<string, { stage: StageName; clip: number | null; output: unknown }>,
  ) {
    const reads: string[] = [];
    const store = {
      async getJson(key: string) {
        reads.push(key);
        const hit = Object.entries(outputs).find(([k]) => key.includes(k));
        if (!hit) throw new Error(`no ${key}`);
        const manifest = {
          schema_version: 1,
          request_id: 'r_test0001',
          digest: 'a'.repeat(64),
          created_at: '2026-11-25T10:00:00.000Z',
          duration_ms: 5,
          ...hit[1],
        };
        return { value: manifest, etag: 'e' };
      },
    } as unknown as ObjectStore;
    return { store, reads };
  }
  /** state.json's manifest keys (the test's stand-in names them by task). */
  const manifestOf = (key: string) => `results/default/${key}/manifest.json`;
  const rendition = (from: string): StageOutput<'transcode-clip'> => ({
    clip: 3,
    video_key: `requests/r_test0001/transcode-clip/0003/${from}.mp4`,
    audio_key: `requests/r_test0001/transcode-clip/0003/${from}.wav`,
    duration_s: 10,
    width: 640,
    height: 360,
  });
  const cut: StageOutput<'cut-clips'> = {
    pieces: [
      {
        index: 0,
        piece_key: 'requests/r_test0001/cut-clips/piece-0000.mp4',
        piece_start_s: 0,
        piece_timestamp_s: 0,
        has_audio: true,
        start: 0,
        end: 10,
        offset_s: 0,
      },
    ],
  };

  it('a transcode output serves its two readers, then is read from its manifest', async () => {
    const { store, reads } = countingStore({
      'transcode-clip/0003/': { stage: 'transcode-clip', clip: 3, output: rendition('bucket') },
    });
    const cache = new OutputCache(store, manifestOf);
    cache.set('transcode-clip/0003', rendition('memory'));
    expect(await cache.get('transcode-clip/0003')).toEqual(rendition('memory'));
    expect(await cache.get('transcode-clip/0003')).toEqual(rendition('memory'));
    expect(cache.size).toBe(0);
    expect(await cache.get('transcode-clip/0003')).toEqual(rendition('bucket'));
    expect(reads).toHaveLength(1);
  });

  it('request-level outputs stay, and tasks starting together share one read of the manifest', async () => {
    const { store, reads } = countingStore({ 'cut-clips': { stage: 'cut-clips', clip: null, output: cut } });
    const cache = new OutputCache(store, manifestOf);
    const all = await Promise.all(Array.from({ length: 50 }, () => cache.get('cut-clips')));
    expect(all.every((o) => JSON.stringify(o) === JSON.stringify(cut))).toBe(true);
    await cache.get('cut-clips');
    expect(reads).toHaveLength(1);
  });

  it('outputs nobody reads are not kept', () => {
    const cache = new OutputCache(countingStore({}).store, manifestOf);
    cache.set('detect-objects/0001', { labels: [] });
    cache.set('transcribe-clip/0001', { text: '' });
    expect(cache.size).toBe(0);
  });

  it('refuses a manifest that breaks its schema instead of handing its output on', async () => {
    const { store } = countingStore({
      'transcode-clip/0003/': { stage: 'transcode-clip', clip: 3, output: { video_key: '../../etc/passwd' } },
    });
    await expect(new OutputCache(store, manifestOf).get('transcode-clip/0003')).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      retryable: false,
    });
  });
});
