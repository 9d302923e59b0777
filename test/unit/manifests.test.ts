import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageName } from '../../common/contracts/stages.js';
import {
  inputDigest,
  loadManifest,
  manifestKey,
  readManifest,
  readManifestFor,
  stageInputDigest,
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

async function putManifest(stage: StageName, clip: number | undefined, output: unknown, digest = DIGEST) {
  const manifest = {
    schema_version: 1,
    stage,
    request_id: ID,
    clip: clip ?? null,
    input_digest: digest,
    created_at: '2026-11-25T10:00:00.000Z',
    duration_ms: 5,
    output,
  };
  await store.put(manifestKey(stage, ID, clip), JSON.stringify(manifest));
}

describe('manifests: read, validated, matched to an input', () => {
  it('reads a valid manifest; one that is missing or breaks its schema reads as none', async () => {
    await putManifest('transcribe-clip', 0, transcript(0, 'hello'));
    await putManifest('transcribe-clip', 1, transcript(1, 42));
    expect((await readManifest(store, 'transcribe-clip', ID, 0))?.output.text).toBe('hello');
    expect(await readManifest(store, 'transcribe-clip', ID, 1)).toBeUndefined();
    expect(await readManifest(store, 'transcribe-clip', ID, 2)).toBeUndefined();
  });

  it('loadManifest, for a manifest that must exist, says which of the two it is', async () => {
    await expect(loadManifest(store, 'transcribe-clip', ID, 2)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(loadManifest(store, 'transcribe-clip', ID, 1)).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      retryable: false,
    });
  });

  it('matches a manifest to the digest of the input as its contract reads it', async () => {
    const input = {
      request_id: ID,
      clip: 3,
      audio_key: `requests/${ID}/a.wav`,
      params: { language: 'en-us' },
    };
    const digest = stageInputDigest('transcribe-clip', input)!;
    expect(digest).toBe(inputDigest(input));
    // Fields the contract does not know do not change what the stage was given.
    expect(stageInputDigest('transcribe-clip', { ...input, extra: true })).toBe(digest);
    expect(stageInputDigest('transcribe-clip', { ...input, clip: -1 })).toBeUndefined();
    await putManifest('transcribe-clip', 3, transcript(3, 'made from it'), digest);
    expect((await readManifestFor(store, 'transcribe-clip', ID, 3, digest))?.output.text).toBe(
      'made from it',
    );
    expect(await readManifestFor(store, 'transcribe-clip', ID, 3, DIGEST)).toBeUndefined();
  });

  it('final.json leaves out a clip output whose manifest breaks its schema, as if it were missing', async () => {
    const piece = (index: number) => ({
      index,
      piece_key: `requests/${ID}/cut-clips/piece-${index}.mp4`,
      piece_start_s: index * 10,
      piece_timestamp_s: index * 10,
      has_audio: true,
      start: index * 10,
      end: index * 10 + 10,
      offset_s: 0,
    });
    await putManifest('cut-clips', undefined, { pieces: [piece(0), piece(1)] });
    const state = makeState();
    for (const key of [
      'extract-audio',
      'segment-speech',
      'cut-clips',
      'transcribe-clip/0000',
      'transcribe-clip/0001',
    ])
      state.tasks[key] = { status: 'SUCCEEDED', attempts: 1 };
    const final = await assembleFinal(store, state, new Date());
    expect(final.clip_list.map((c) => c.transcript)).toEqual(['hello', undefined]);
  });
});
