import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSampleVideo, SAMPLE } from '../../cli/sample-video.js';
import { FinalResult } from '../../common/contracts/final.js';
import { RequestState } from '../../common/contracts/state.js';
import { requestKeys } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { type Gateway, startGateway } from '../../gateway/index.js';
import { MEDIA_CACHE_DIR } from '../helpers/media.js';

/**
 * The whole product on real parts: every function of stack.yml (real ffmpeg
 * stages, pocketsphinx, the CenterNet detector) as its own process behind the
 * local gateway, on the demo's sample video — speech, and a motorcycle photo
 * on screen for a known span. Questions about what is seen and what is said
 * must find the right clips.
 */
const ROOT = resolve(import.meta.dirname, '../..');
let work: string;
let store: FolderStore;
let gateway: Gateway;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clipseek-pipeline-'));
  const sample = await makeSampleVideo(
    join(MEDIA_CACHE_DIR, 'pipeline-sample.mp4'),
    join(MEDIA_CACHE_DIR, 'cache'),
  );
  store = new FolderStore(join(work, 'bucket'));
  await store.put('uploads/sample.mp4', readFileSync(sample.path));
  gateway = await startGateway({
    stackFile: join(ROOT, 'stack.yml'),
    root: ROOT,
    port: 0,
    storageUrl: pathToFileURL(join(work, 'bucket')).href,
    env: { ...process.env, MAX_CONCURRENT_INVOCATIONS: '2' },
    cron: false,
    functionOutput: 'ignore',
    logger: createLogger({ name: 'pipeline-test', level: 'silent' }),
  });
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function ask(query: string, request_id: string): Promise<FinalResult> {
  const res = await fetch(`${gateway.url}/function/orchestrator`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ video_uri: 'store://uploads/sample.mp4', query, request_id }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return FinalResult.parse(body);
}

const overlaps = (a: [number, number], b: [number, number]) => Math.min(a[1], b[1]) - Math.max(a[0], b[0]);

describe('the real pipeline through the local gateway', () => {
  it('finds the motorbike where it is on screen, with evidence, a rendition and a thumbnail', async () => {
    const final = await ask('find the motorbike', 'real-motorbike');
    expect(final.status).toBe('SUCCEEDED');
    expect(final.understood.labels).toContain('motorcycle');
    expect(final.clips).toBeGreaterThan(1);
    const top = final.matches[0];
    expect(top, JSON.stringify(final.clip_list)).toBeDefined();
    const seen = top!.why.labels.find((l) => l.label === 'motorcycle');
    expect(seen).toBeDefined();
    const shown: [number, number] = [SAMPLE.photo.fromS, SAMPLE.photo.toS];
    for (const range of seen!.ranges) expect(overlaps(range, shown)).toBeGreaterThan(0);
    for (const key of [top!.video_keys[0], top!.thumbnail_key]) expect(await store.head(key!)).toBeDefined();
    // Nothing matched where no motorcycle is on screen.
    for (const m of final.matches) expect(overlaps([m.start, m.end], shown)).toBeGreaterThan(0);

    const state = RequestState.parse((await store.getJson(requestKeys('real-motorbike').state)).value);
    expect(state.status).toBe('SUCCEEDED');
    expect(Object.values(state.tasks).every((t) => t.status === 'SUCCEEDED' && t.attempts === 1)).toBe(true);
  });

  it('finds a spoken word in the clip where it is said', async () => {
    const final = await ask('where do they talk about the weather', 'real-weather');
    expect(final.understood.terms.length).toBeGreaterThan(0);
    const said = SAMPLE.utterances.find((u) => u.text.includes('weather'))!.atS;
    expect(final.matches.length).toBeGreaterThan(0);
    const top = final.matches[0]!;
    expect(top.why.words.length).toBeGreaterThan(0);
    expect(top.start).toBeLessThanOrEqual(said + 1);
    expect(top.end).toBeGreaterThan(said);
  });
});
