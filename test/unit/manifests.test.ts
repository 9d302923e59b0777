import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROWS } from '../../common/contracts/pipeline.js';
import type { StageName } from '../../common/contracts/stages.js';
import {
  inputDigest,
  loadManifest,
  readManifest,
  readManifestFor,
  taskDigest,
  taskResults,
} from '../../common/manifests.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { assembleFinal } from '../../functions/orchestrator/assemble.js';
import { makeState } from '../helpers/state.js';

const ID = 'r_test0001';
const DIGEST = 'd'.repeat(64);
let dir: string;
let store: FolderStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-manifests-test-'));
  store = new FolderStore(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const transcript = (clip: number, text: unknown) => ({
  clip,
  engine: 'fake',
  text,
  words: [],
  no_speech: false,
});

/** A manifest key of this test's own: what reads one is handed the key state.json recorded. */
const keyOf = (stage: StageName, clip: number | undefined) =>
  `results/default/${stage}/${clip ?? 'r'}/manifest.json`;

async function putManifest(stage: StageName, clip: number | undefined, output: unknown, digest = DIGEST) {
  const manifest = {
    schema_version: 1,
    stage,
    request_id: ID,
    clip: clip ?? null,
    digest,
    created_at: '2026-11-25T10:00:00.000Z',
    duration_ms: 5,
    output,
  };
  await store.put(keyOf(stage, clip), JSON.stringify(manifest));
}

describe('manifests: read, validated, matched to an input', () => {
  it('reads a valid manifest; one that is missing or breaks its schema reads as none', async () => {
    await putManifest('transcribe-clip', 0, transcript(0, 'hello'));
    await putManifest('transcribe-clip', 1, transcript(1, 42));
    expect((await readManifest(store, 'transcribe-clip', keyOf('transcribe-clip', 0)))?.output.text).toBe(
      'hello',
    );
    expect(await readManifest(store, 'transcribe-clip', keyOf('transcribe-clip', 1))).toBeUndefined();
    expect(await readManifest(store, 'transcribe-clip', keyOf('transcribe-clip', 2))).toBeUndefined();
  });

  it('loadManifest, for a manifest that must exist, says which of the two it is', async () => {
    await expect(loadManifest(store, 'transcribe-clip', keyOf('transcribe-clip', 2))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(loadManifest(store, 'transcribe-clip', keyOf('transcribe-clip', 1))).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      retryable: false,
    });
  });

  it('names a task by its stage, version and input without the request id', () => {
    const input = {
      namespace: 'default',
      request_id: ID,
      clip: 3,
      audio_key: 'results/default/transcode-clip/abc/clip.wav',
      params: { language: 'en-us' },
    };
    const digest = taskDigest('transcribe-clip', input);
    const { request_id: _, ...shared } = input;
    expect(digest).toBe(
      inputDigest({ stage: 'transcribe-clip', version: ROWS['transcribe-clip'].version, input: shared }),
    );
    // Another request asking the same of the same audio shares the results …
    expect(taskDigest('transcribe-clip', { ...input, request_id: 'r_other001' })).toBe(digest);
    // … but not another namespace, other settings, other upstream outputs, or another clip.
    for (const other of [
      { ...input, namespace: 'tenant-b' },
      { ...input, params: { language: 'de' } },
      { ...input, audio_key: 'results/default/transcode-clip/def/clip.wav' },
      { ...input, clip: 4 },
    ]) {
      expect(taskDigest('transcribe-clip', other)).not.toBe(digest);
    }
    // Fields the contract does not know do not change what the stage was given.
    expect(taskResults('transcribe-clip', { ...input, extra: true })).toEqual({
      digest,
      keys: expect.objectContaining({ manifest: `results/default/transcribe-clip/${digest}/manifest.json` }),
    });
    expect(taskResults('transcribe-clip', { ...input, clip: -1 })).toBeUndefined();
  });

  it('matches a manifest to its task digest', async () => {
    const digest = 'e'.repeat(64);
    await putManifest('transcribe-clip', 3, transcript(3, 'made from it'), digest);
    const key = keyOf('transcribe-clip', 3);
    expect((await readManifestFor(store, 'transcribe-clip', key, digest))?.output.text).toBe('made from it');
    expect(await readManifestFor(store, 'transcribe-clip', key, DIGEST)).toBeUndefined();
  });

  it('final.json leaves out a clip output whose manifest breaks its schema, as if it were missing', async () => {
    const piece = (index: number) => ({
      index,
      piece_key: `results/default/cut-clips/${DIGEST}/piece-${index}.mp4`,
      piece_start_s: index * 10,
      piece_timestamp_s: index * 10,
      has_audio: true,
      start: index * 10,
      end: index * 10 + 10,
      offset_s: 0,
    });
    await putManifest('cut-clips', undefined, { pieces: [piece(0), piece(1)] });
    const state = makeState();
    for (const [key, stage, clip] of [
      ['extract-audio', 'extract-audio', undefined],
      ['segment-speech', 'segment-speech', undefined],
      ['cut-clips', 'cut-clips', undefined],
      ['transcribe-clip/0000', 'transcribe-clip', 0],
      ['transcribe-clip/0001', 'transcribe-clip', 1],
    ] as const)
      state.tasks[key] = { status: 'SUCCEEDED', attempts: 1, manifest: keyOf(stage, clip) };
    const final = await assembleFinal(store, state, new Date());
    expect(final.clip_list.map((c) => c.transcript)).toEqual(['hello', undefined]);
  });
});
