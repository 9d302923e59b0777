import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinalResult } from '../../common/contracts/final.js';
import { FUNCTION_STAGES, isFunctionStage } from '../../common/contracts/pipeline.js';
import { SearchResult } from '../../common/contracts/video-index.js';
import { requestKeys } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { readState } from '../../common/state/state-store.js';
import { createStore } from '../../common/storage/index.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { parseTaskKey } from '../../common/task-key.js';
import { type Gateway, startGateway } from '../../gateway/index.js';
import { speechVideo } from '../helpers/media.js';
import { type LocalS3Server, startS3Server } from '../helpers/s3-server.js';

/**
 * The whole product on the S3 store: the real gateway and every real function
 * with STORAGE_URL pointing at a local S3 server (s3rver) over HTTP, signed
 * with the s3-access-key / s3-secret-key secrets (env fallbacks). A first
 * request analyses the video, a second on the same video reuses every stage
 * result and invokes nothing, and a search over HTTP finds the video from its
 * index document in the bucket with the matches the request had.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const S3_SECRETS = { S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' };
let s3: LocalS3Server;
let store: ObjectStore;
let gateway: Gateway;
let work: string;
let sha256: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clipseek-s3-pipeline-'));
  s3 = await startS3Server('pipeline-bucket');
  store = createStore(s3.storageUrl, { env: S3_SECRETS });
  const video = readFileSync((await speechVideo()).path);
  sha256 = createHash('sha256').update(video).digest('hex');
  await store.put('uploads/speech.mp4', video);
  gateway = await startGateway({
    stackFile: join(ROOT, 'stack.yml'),
    root: ROOT,
    port: 0,
    storageUrl: s3.storageUrl,
    env: { ...process.env, ...S3_SECRETS, MAX_CONCURRENT_INVOCATIONS: '2' },
    // Secrets from the env fallbacks only, never from the machine's /var/openfaas/secrets.
    secretsDir: join(work, 'no-secrets'),
    cron: false,
    functionOutput: 'ignore',
    logger: createLogger({ name: 's3-pipeline-test', level: 'silent' }),
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await s3?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function post(body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway.url}/function/orchestrator`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function ask(query: string, request_id: string): Promise<FinalResult> {
  const answer = await post({ video_uri: 'store://uploads/speech.mp4', query, request_id });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return FinalResult.parse(answer.body);
}

const stageCalls = () =>
  FUNCTION_STAGES.reduce((n, name) => n + (gateway.functions.get(name)?.invocations ?? 0), 0);

/** The request's media tasks from its state.json in the bucket: invoked vs reused. */
async function mediaTasks(requestId: string) {
  const { state } = await readState(store, requestId);
  const tasks = Object.entries(state.tasks).filter(([key]) => isFunctionStage(parseTaskKey(key).stage));
  return {
    state,
    invoked: tasks.filter(([, t]) => t.status === 'SUCCEEDED' && !t.reused).length,
    reused: tasks.filter(([, t]) => t.status === 'SUCCEEDED' && t.reused).length,
    total: tasks.length,
  };
}

describe('the pipeline on S3 (s3rver over HTTP)', () => {
  it('analyses a video, then answers another question on it from the shared results', async () => {
    const calls0 = stageCalls();
    const first = await ask('find the red car', 'r_s3first0001');
    expect(first.clip_list.length).toBeGreaterThan(0);
    const firstTasks = await mediaTasks('r_s3first0001');
    expect(firstTasks.state.status).toBe('SUCCEEDED');
    expect(firstTasks.invoked).toBe(firstTasks.total);
    expect(stageCalls() - calls0).toBe(firstTasks.total);
    // Everything went to the S3 bucket: the request's record, the shared results.
    expect(await store.head(requestKeys('r_s3first0001').final)).toBeDefined();
    const results = [];
    for await (const info of store.listAll('results/')) results.push(info.key);
    expect(results.filter((k) => k.endsWith('/manifest.json')).length).toBeGreaterThanOrEqual(
      firstTasks.total,
    );

    const calls1 = stageCalls();
    const second = await ask('the quick brown fox', 'r_s3second001');
    const secondTasks = await mediaTasks('r_s3second001');
    expect(stageCalls() - calls1).toBe(0);
    expect(secondTasks).toMatchObject({ invoked: 0, reused: firstTasks.total });
    expect(second.clip_list.map((c) => [c.clip, c.start, c.end])).toEqual(
      first.clip_list.map((c) => [c.clip, c.start, c.end]),
    );

    // The search control call reads the video index document the first request wrote to S3.
    expect(first.matches.length).toBeGreaterThan(0);
    const searched = await post({ search: 'find the red car' });
    expect(searched.status, JSON.stringify(searched.body)).toBe(200);
    const result = SearchResult.parse(searched.body);
    expect(result).toMatchObject({ videos: 1, skipped: [] });
    expect(result.matches.map((m) => m.video.sha256)).toEqual(first.matches.map(() => sha256));
    expect(result.matches.map((m) => [m.start, m.end])).toEqual(first.matches.map((m) => [m.start, m.end]));
  }, 120_000);
});
