/**
 * A stage call that outlives its request (stopped or slow past its timeout
 * while the request FAILED) must not change it: it deletes what it wrote and
 * ends with REQUEST_FINISHED. One whose task was taken over by another call
 * stops without touching the new owner's keys. The real thing, a SIGSTOPped
 * stage process, is in test/e2e/faults.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { indexKeys } from '../../common/keys.js';
import { taskResults } from '../../common/manifests.js';
import { defineStage, runStageOnce } from '../../common/stage.js';
import { createState } from '../../common/state/state-store.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { makeState } from '../helpers/state.js';

const ID = 'r_late';
const CLIP = 0;

const input = {
  namespace: 'default',
  request_id: ID,
  clip: CLIP,
  piece_key: 'results/default/cut-clips/abc/0000.mp4',
  piece_start_s: 0,
  piece_timestamp_s: 0,
  offset_s: 0,
  duration_s: 2,
  has_audio: true,
  params: { height: 240, preset: 'ultrafast' as const, crf: 32, audio_bitrate_k: 96 },
};
/** The task's results directory: its outputs, manifest and claim. */
const task = taskResults('transcode-clip', input)!.keys;
const videoKey = task.file('clip.mp4');
const audioKey = task.file('clip.wav');
const claimKey = task.claim;

let dir: string;
let store: FolderStore;
let runs: number;
/** Resolves the pause between the stage's two outputs; `paused` resolves once it is reached. */
let resume: () => void;
let paused: Promise<void>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clipseek-late-'));
  store = new FolderStore(join(dir, 'bucket'));
  runs = 0;
  let reached!: () => void;
  paused = new Promise((r) => {
    reached = r;
  });
  const gate = new Promise<void>((r) => {
    resume = r;
  });
  pause = async () => {
    reached();
    await gate;
  };
  // An open request, as the orchestrator keeps it: state.json and its index/active marker.
  const state = makeState();
  state.request_id = ID;
  await store.put(indexKeys.active(ID), '');
  await createState(store, state);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let pause: () => Promise<void>;
/** transcode-clip's outputs, with a pause (a stopped process) between the two. */
const slowTranscode = defineStage({
  name: 'transcode-clip',
  async run(input, { store: out }) {
    runs += 1;
    await out.put(videoKey, Buffer.from('video'));
    await pause();
    await out.put(audioKey, Buffer.from('audio'));
    return { clip: input.clip, video_key: videoKey, audio_key: audioKey, duration_s: 2, width: 2, height: 2 };
  },
});

const deps = (over: { store?: ObjectStore; claimTtlMs?: number } = {}) => ({
  store,
  logger: pino({ level: 'silent' }),
  signal: new AbortController().signal,
  now: () => new Date(),
  ...over,
});

/** What the orchestrator does when a request ends: its marker leaves index/active. */
const finishRequest = () => store.delete(indexKeys.active(ID));

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const o of store.listAll(prefix)) found.push(o.key);
  return found;
}

describe('late stage work', () => {
  it('a call paused past the end of its request deletes what it wrote and writes no manifest', async () => {
    const call = runStageOnce(slowTranscode, input, deps()).then(
      () => undefined,
      (e: unknown) => e,
    );
    await paused;
    expect(await store.head(videoKey)).toBeDefined(); // the first output was written before the pause
    await finishRequest();
    resume();
    expect(await call).toMatchObject({ code: 'REQUEST_FINISHED', status: 409, retryable: false });
    expect(await keysUnder('results/')).toEqual([]); // outputs, manifest, claim: none
  });

  it('a call that arrives after its request finished does no work', async () => {
    await finishRequest();
    resume();
    await expect(runStageOnce(slowTranscode, input, deps())).rejects.toMatchObject({
      code: 'REQUEST_FINISHED',
    });
    expect(runs).toBe(0);
    expect(await keysUnder('results/')).toEqual([]);
  });

  it('a request that finishes while the manifest is written gets nothing', async () => {
    resume();
    // The request ends the moment the manifest lands (the call was stopped just before it).
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'put') {
          return async (key: string, ...rest: [never]) => {
            const written = await target.put(key, ...rest);
            if (key === task.manifest) await finishRequest();
            return written;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(runStageOnce(slowTranscode, input, deps({ store: racing }))).rejects.toMatchObject({
      code: 'REQUEST_FINISHED',
    });
    expect(await keysUnder('results/')).toEqual([]);
  });

  it('a call whose task was taken over stops, leaving the new owner its keys and claim', async () => {
    const call = runStageOnce(slowTranscode, input, deps({ claimTtlMs: 300 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    await paused;
    // Another call took the task over (this one looked dead) and rewrote the first output.
    const taker = JSON.stringify({
      owner: 'the-new-owner',
      expires_at: new Date(Date.now() + 60_000).toISOString(),
    });
    await store.put(claimKey, taker);
    await store.put(videoKey, Buffer.from('video from the new owner'));
    await new Promise((r) => setTimeout(r, 400));
    resume();
    expect(await call).toMatchObject({ code: 'CLAIM_LOST', retryable: true });
    expect((await store.getBytes(videoKey)).toString()).toBe('video from the new owner');
    expect(await store.head(audioKey)).toBeUndefined();
    expect(await store.head(task.manifest)).toBeUndefined();
    expect((await store.getBytes(claimKey)).toString()).toBe(taker);
  });

  it('a call on an open request writes its outputs and manifest as before', async () => {
    resume();
    const { manifest, reused } = await runStageOnce(slowTranscode, input, deps());
    expect(reused).toBe(false);
    expect(manifest.output.video_key).toBe(videoKey);
    expect((await keysUnder('results/')).sort()).toEqual([audioKey, videoKey, task.manifest].sort());
  });
});
