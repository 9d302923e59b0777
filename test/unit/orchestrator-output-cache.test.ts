import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../common/storage/types.js';
import { OutputCache } from '../../functions/orchestrator/task-runner.js';

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
