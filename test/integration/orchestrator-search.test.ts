import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FinalResult } from '../../common/contracts/final.js';
import { SearchResult, VideoIndexDocument } from '../../common/contracts/video-index.js';
import { videoIndexKeys } from '../../common/keys.js';
import { readState } from '../../common/state/state-store.js';
import { orchestratorHandler } from '../../functions/orchestrator/routes.js';
import type { OrchestratorService } from '../../functions/orchestrator/service.js';
import { FAKE_DURATION_S } from '../helpers/fake-stages.js';
import { type Harness, makeHarness, silentLogger } from '../helpers/orchestrator-harness.js';

const submit = {
  video_uri: 'store://uploads/video.mp4',
  query: 'find scenes with cars',
  profile: 'default' as const,
};

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

async function run(service: OrchestratorService, body: object = submit): Promise<FinalResult> {
  const outcome = await service.submit({ ...submit, ...body }, undefined);
  if (outcome.kind !== 'final') throw new Error(`not final: ${JSON.stringify(outcome)}`);
  return outcome.result;
}

async function documents(namespace = 'default') {
  const docs: VideoIndexDocument[] = [];
  for await (const o of h.store.listAll(videoIndexKeys(namespace).prefix)) {
    docs.push(VideoIndexDocument.parse((await h.store.getJson(o.key)).value));
  }
  return docs;
}

/** The orchestrator's HTTP entry, as the gateway calls it. */
function call(service: OrchestratorService, body: unknown) {
  return orchestratorHandler(service)({
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers: {},
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    callId: 'test-call',
    signal: new AbortController().signal,
    logger: silentLogger,
  });
}

async function listing(): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of h.store.listAll('')) keys.push(`${o.key} ${o.etag}`);
  return keys.sort();
}

describe('the video index document a finished request writes', () => {
  it('is the evidence its final.json was ranked from, in the configured namespace', async () => {
    const final = await run(h.service({ namespace: 'tenant-a' }));
    expect(await documents('default')).toEqual([]);
    const [doc, ...more] = await documents('tenant-a');
    expect(more).toEqual([]);
    const { state } = await readState(h.store, final.request_id);
    expect(doc).toMatchObject({
      namespace: 'tenant-a',
      request_id: final.request_id,
      profile: 'default',
      frame_interval_s: 1 / state.params.frames.fps,
      coverage: final.coverage,
      video: { name: 'video.mp4', uri: submit.video_uri, duration_s: FAKE_DURATION_S },
    });
    expect(doc!.clips.map((c) => [c.clip, c.start, c.end, c.video_key])).toEqual(
      final.clip_list.map((c) => [c.clip, c.start, c.end, c.video_key]),
    );
    // The car the fake detector sees in clip 1: its detections, as [t, best score] without boxes.
    expect(doc!.clips[1]!.labels).toEqual([
      { label: 'car', best_score: 0.9, ranges: [[2, 6]], frames: 4, seen: [[2, 0.9]] },
    ]);
    // Its results are the folders of the shared results it is made of: the tasks' (not copy-source's
    // record, the request's own) and the source's; its size, the bytes under them.
    const copied = (
      await h.store.getJson<{ output: { source_key: string; sha256: string } }>(
        state.tasks['copy-source']!.manifest!,
      )
    ).value.output;
    const dirs = Object.entries(state.tasks)
      .filter(([key]) => key !== 'copy-source')
      .map(([, t]) => t.manifest!.replace(/\/manifest\.json$/, ''));
    dirs.push(copied.source_key.slice(0, copied.source_key.lastIndexOf('/')));
    expect(doc!.results).toEqual([...new Set(dirs)].sort());
    expect(doc!.results.every((dir) => dir.startsWith('results/tenant-a/'))).toBe(true);
    let bytes = 0;
    for await (const o of h.store.listAll('results/tenant-a/')) bytes += o.size;
    expect(doc!.stored_bytes).toBe(bytes);
    expect(doc!.video.size_bytes).toBe((await h.store.head(copied.source_key))!.size);
    expect(doc!.video.sha256).toBe(
      createHash('sha256')
        .update(await h.store.getBytes(copied.source_key))
        .digest('hex'),
    );
  });

  it('is not written for a request that failed', async () => {
    h.gateway.faults.set('extract-audio', ['reject']);
    const final = await run(h.service());
    expect(final.status).toBe('FAILED');
    expect(await documents()).toEqual([]);
  });

  it('leaves out a clip that failed, and says what it did not analyse', async () => {
    h.gateway.faults.set('detect-objects/0001', ['reject']);
    const final = await run(h.service(), { overrides: { run: { tolerated_clip_failures: 1 } } });
    expect(final.status).toBe('SUCCEEDED');
    const [doc] = await documents();
    expect(doc!.clips.map((c) => c.clip)).toEqual([0, 2]);
    expect(doc!.coverage).toEqual(final.coverage);
    expect(doc!.coverage.unanalysed).toEqual([[10, 20]]);
  });
});

describe('{"search": …}: the orchestrator control call', () => {
  it('answers 200 with the ranked matches across videos, each video as a request on it answered', async () => {
    await h.store.put('uploads/other.mp4', Buffer.from('another video, with other bytes'));
    const service = h.service();
    const cars = await run(service);
    const budget = await run(service, { video_uri: 'store://uploads/other.mp4', query: 'the budget' });
    const searched = async (body: object) => {
      const res = await call(service, body);
      expect(res.status).toBe(200);
      return SearchResult.parse(res.body);
    };
    const both = await searched({ search: 'find scenes with cars', limit: 5 });
    expect(both).toMatchObject({ namespace: 'default', videos: 2, skipped: [] });
    expect(new Set(both.matches.map((m) => m.video.name))).toEqual(new Set(['video.mp4', 'other.mp4']));
    const bare = (r: SearchResult) => r.matches.map(({ video: _v, analysis: _a, ...m }) => m);
    expect(bare(await searched({ search: cars.query, videos: ['video.mp4'] }))).toEqual(cars.matches);
    expect(bare(await searched({ search: budget.query, videos: ['other.mp4'] }))).toEqual(budget.matches);
    expect(budget.matches.length).toBeGreaterThan(0);
  });

  it('answers 200 with no matches when nothing is analysed', async () => {
    const res = await call(h.service(), { search: 'cars' });
    expect(res).toMatchObject({ status: 200, body: { videos: 0, matches: [] } });
  });

  it.each([
    ['an empty query', { search: '  ' }],
    ['a query over 500 characters', { search: 'x'.repeat(501) }],
    ['a limit of 0', { search: 'cars', limit: 0 }],
    ['a limit that is not a number', { search: 'cars', limit: '5' }],
    ['videos that is not a list', { search: 'cars', videos: 'video.mp4' }],
    ['an empty videos list', { search: 'cars', videos: [] }],
    ['an unknown field', { search: 'cars', namespace: 'someone-else' }],
  ])('refuses %s with 422 INVALID_REQUEST, writing nothing', async (_what, body) => {
    await run(h.service());
    const before = await listing();
    await expect(call(h.service(), body)).rejects.toMatchObject({ code: 'INVALID_REQUEST', status: 422 });
    expect(await listing()).toEqual(before);
  });

  it('answers 404 VIDEO_NOT_FOUND for a video nothing analysed', async () => {
    await run(h.service());
    await expect(call(h.service(), { search: 'cars', videos: ['other.mp4'] })).rejects.toMatchObject({
      code: 'VIDEO_NOT_FOUND',
      status: 404,
    });
  });
});
