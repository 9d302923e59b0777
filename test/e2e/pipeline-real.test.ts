import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSampleVideo, SAMPLE, type SampleSpec } from '../../cli/sample-video.js';
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
/** Speech only in the first and last seconds, the motorcycle only in between: clips must tile the silence. */
const SPEECH_AT_EDGES: SampleSpec = {
  ...SAMPLE,
  utterances: [
    { text: 'welcome to the clip seek demo', atS: 0.5 },
    { text: 'that was all for today', atS: 15.5 },
  ],
  photo: { fromS: 6.3, toS: 10.6 },
};
let work: string;
let store: FolderStore;
let gateway: Gateway;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clipseek-pipeline-'));
  const sample = await makeSampleVideo(
    join(MEDIA_CACHE_DIR, 'pipeline-sample.mp4'),
    join(MEDIA_CACHE_DIR, 'cache'),
  );
  const edges = await makeSampleVideo(
    join(MEDIA_CACHE_DIR, 'pipeline-speech-at-edges.mp4'),
    join(MEDIA_CACHE_DIR, 'cache'),
    SPEECH_AT_EDGES,
  );
  store = new FolderStore(join(work, 'bucket'));
  await store.put('uploads/sample.mp4', readFileSync(sample.path));
  await store.put('uploads/edges.mp4', readFileSync(edges.path));
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

async function ask(query: string, request_id: string, video = 'uploads/sample.mp4'): Promise<FinalResult> {
  const res = await fetch(`${gateway.url}/function/orchestrator`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ video_uri: `store://${video}`, query, request_id }),
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

  it('finds an object shown only between the speech, where it is, and says all of the video was analysed', async () => {
    const final = await ask('find the motorbike', 'real-edges', 'uploads/edges.mp4');
    expect(final.coverage).toEqual({ duration_s: 18, analysed_s: 18, ratio: 1, unanalysed: [] });
    const shown = SPEECH_AT_EDGES.photo;
    const top = final.matches[0];
    expect(top, JSON.stringify(final.clip_list)).toBeDefined();
    // A frame a second, each standing for the second around it: the answer is the span to within a frame.
    expect(Math.abs(top!.start - shown.fromS)).toBeLessThanOrEqual(1);
    expect(Math.abs(top!.end - shown.toS)).toBeLessThanOrEqual(1);
    expect(top!.thumbnail_t).toBeGreaterThanOrEqual(shown.fromS);
    expect(top!.thumbnail_t).toBeLessThanOrEqual(shown.toS);
    for (const m of final.matches)
      expect(overlaps([m.start, m.end], [shown.fromS, shown.toS])).toBeGreaterThan(0);
  });
});
