import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { taskResults } from '../../common/manifests.js';
import { PROFILES } from '../../common/profiles.js';
import { defineStage, runStageOnce } from '../../common/stage.js';
import { claimOrWait } from '../../common/stage-claim.js';
import { FolderStore } from '../../common/storage/folder-store.js';

/**
 * Single flight per task: a second call for a task that is still running
 * (a resumed orchestrator re-invoking work whose first caller died) waits for
 * the first call's manifest instead of doing the work again; a claim left by
 * a dead process is taken over once it expires.
 */
let dir: string;
let store: FolderStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'clipseek-claim-'));
  store = new FolderStore(join(dir, 'bucket'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
const slowSegment = defineStage({
  name: 'segment-speech',
  async run(input) {
    runs += 1;
    await new Promise((r) => setTimeout(r, 300));
    return { speech: [], clips: [{ index: 0, start: 0, end: input.duration_s }], no_speech: true };
  },
});
const input = {
  namespace: 'default',
  request_id: 'r_claim',
  audio_key: 'results/default/extract-audio/abc/audio.wav',
  duration_s: 5,
  params: PROFILES.default.segment,
};
const deps = (claimTtlMs = 15_000) => ({
  store,
  logger: pino({ level: 'silent' }),
  signal: new AbortController().signal,
  now: () => new Date(),
  claimTtlMs,
});
const claimKey = taskResults('segment-speech', input)!.keys.claim;

describe('stage single flight', () => {
  it('two concurrent calls for one task run the work once and answer the same manifest', async () => {
    runs = 0;
    const [a, b] = await Promise.all([
      runStageOnce(slowSegment, input, deps()),
      runStageOnce(slowSegment, input, deps()),
    ]);
    expect(runs).toBe(1);
    expect(a.manifest).toEqual(b.manifest);
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    expect(await store.head(claimKey)).toBeUndefined();
  });

  it('two requests at once on the same task run it once: the claim is the digest, not the request', async () => {
    runs = 0;
    const [a, b] = await Promise.all([
      runStageOnce(slowSegment, input, deps()),
      runStageOnce(slowSegment, { ...input, request_id: 'r_claim_other' }, deps()),
    ]);
    expect(runs).toBe(1);
    expect(a.manifest).toEqual(b.manifest);
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    // A later request reuses the manifest without waiting or running.
    expect((await runStageOnce(slowSegment, { ...input, request_id: 'r_claim_third' }, deps())).reused).toBe(
      true,
    );
    expect(runs).toBe(1);
  });

  it('another namespace shares nothing: the same task runs again there', async () => {
    runs = 0;
    await runStageOnce(slowSegment, input, deps());
    const other = await runStageOnce(slowSegment, { ...input, namespace: 'tenant-b' }, deps());
    expect(other.reused).toBe(false);
    expect(runs).toBe(2);
  });

  it('takes over a claim whose holder died (not renewed past its TTL)', async () => {
    runs = 0;
    const expired = new Date(Date.now() - 1000).toISOString();
    await store.put(claimKey, JSON.stringify({ owner: 'dead-process', expires_at: expired }));
    const { reused } = await runStageOnce(slowSegment, input, deps(500));
    expect(reused).toBe(false);
    expect(runs).toBe(1);
  });

  it('a caller waiting on a live claim stops when its signal aborts', async () => {
    const live = new Date(Date.now() + 60_000).toISOString();
    await store.put(claimKey, JSON.stringify({ owner: 'busy-process', expires_at: live }));
    const controller = new AbortController();
    const waiting = runStageOnce(slowSegment, input, { ...deps(), signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('a claim renewed through a slow store stays held: a renewal waits for the one before', async () => {
    // Renewals every ttl/3 = 100 ms, each write taking 250 ms (a loaded machine, a stage blocking
    // its event loop): two renewals at once with the same ETag, and the loser must not think the
    // claim was taken over.
    const slow = new Proxy(store, {
      get(target, prop) {
        if (prop === 'putIfMatch')
          return async (...args: Parameters<FolderStore['putIfMatch']>) => {
            await new Promise((r) => setTimeout(r, 250));
            return target.putIfMatch(...args);
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const claim = await claimOrWait(
      { ...deps(), ttlMs: 300, store: slow, key: claimKey },
      async () => undefined,
    );
    if (claim.kind !== 'owned') throw new Error('the claim was free');
    await new Promise((r) => setTimeout(r, 1200));
    expect(await claim.held()).toBe(true);
    await claim.release();
    expect(await store.head(claimKey)).toBeUndefined();
  });
});
