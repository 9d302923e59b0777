/**
 * Fault injection through the real gateway and the real orchestrator bundle,
 * with fake stages that fail on purpose (test/fixtures/functions/faulty-stage.ts):
 * seeded 500s, a stage hanging past its timeout, a stage process dying just
 * before its manifest, 502s, a 422, the orchestrator itself killed mid-run and
 * while it delivers a callback, and a stage process stopped past its timeout.
 *
 * Every request must end SUCCEEDED or FAILED with its cause in state.json,
 * nothing may stay RUNNING once the sweeper ran, and no task's manifest may be
 * written twice (outputs are rewritten only by a retry of a failed attempt).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFunctionStage, REQUEST_STAGES } from '../../common/contracts/pipeline.js';
import type { RequestState } from '../../common/contracts/state.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import { clipTaskKeys, parseTaskKey } from '../../common/task-key.js';
import { FaultRule, faultFor } from '../fixtures/functions/faulty-stage.js';
import { type Stack, startStack, waitFor } from '../helpers/stack-harness.js';

const CLIPS = 3; // FAKE_DURATION_S 30 s in 10 s clips
/** Every task a function runs (copy-source runs in the orchestrator: no call to fault). */
const ALL_TASKS = [
  ...REQUEST_STAGES.filter(isFunctionStage),
  ...Array.from({ length: CLIPS }, (_, c) => clipTaskKeys(c)).flat(),
];

const FLAKY = { kind: 'status', status: 500, rate: 0.35, seed: 7, requestPrefix: 'flaky-' } as const;
const RULES: FaultRule[] = [
  FLAKY,
  { kind: 'hang', stage: 'transcode-clip', clips: [1], attempts: [1], requestPrefix: 'hang-once' },
  { kind: 'hang', stage: 'detect-objects', clips: [2], requestPrefix: 'hang-always' },
  { kind: 'status', status: 502, stage: 'sample-frames', attempts: [1, 2], requestPrefix: 'bad-gateway' },
  { kind: 'status', status: 422, stage: 'transcribe-clip', clips: [1], requestPrefix: 'reject' },
  { kind: 'die', stage: 'transcode-clip', clips: [0, 2], attempts: [1], requestPrefix: 'die' },
  { kind: 'delay', ms: 250, requestPrefix: 'crash' },
  { kind: 'stop', ms: 3000, stage: 'transcode-clip', clips: [0], attempts: [1], requestPrefix: 'late' },
];
const SIGNING_KEY = 'faults-signing-key';

/** Quick retries: the suite checks outcomes, not backoff timing. */
const FAST_RETRIES = { backoff_base_ms: 20, backoff_max_ms: 100 };

let stack: Stack;
/** Receives callbacks; `onDelivery` decides each answer. */
let receiver: Server;
let receiverUrl: string;
const deliveries: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
let onDelivery: (n: number) => number = () => 200;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = onDelivery(deliveries.length);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  stack = await startStack({
    fakeStages: true,
    env: {
      FAULTS: JSON.stringify(RULES),
      LEASE_S: '2',
      STATE_FLUSH_MS: '50',
      SWEEP_GRACE_S: '0',
      CALLBACK_SIGNING_KEY: SIGNING_KEY,
      CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      CALLBACK_TIMEOUT_S: '1',
    },
  });
});

afterAll(async () => {
  await stack?.close();
  receiver?.closeAllConnections();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

/** How each fake-stage call of a request ended (outcomes.log): task → OK or its error code. */
function outcomes(requestId: string): Map<string, string> {
  const file = join(stack.markerDir, 'outcomes.log');
  const ended = new Map<string, string>();
  if (!existsSync(file)) return ended;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [id, task, what] = line.split(' ');
    if (id === requestId && task && what) ended.set(task, what);
  }
  return ended;
}

/**
 * Each request on a video of its own: requests on the same video share their stage
 * results, and the faults here are about one request's calls.
 */
async function submit(
  requestId: string,
  run: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  await stack.store.put(`uploads/${requestId}.mp4`, Buffer.from(`the fake video of ${requestId}`));
  return stack.submit<{ status?: string; error?: { code: string; details: Record<string, unknown> } }>({
    video_uri: `store://uploads/${requestId}.mp4`,
    query: 'find the car',
    request_id: requestId,
    overrides: { run: { ...FAST_RETRIES, ...run } },
    ...extra,
  });
}

/** The outcome a seeded-500 request must have, worked out from the same pure rule the stages apply. */
function flakyExpectation(requestId: string, maxAttempts: number) {
  const rules = [FaultRule.parse(FLAKY)];
  const calls = new Map<string, number>();
  const doomed: string[] = [];
  for (const task of ALL_TASKS) {
    const { stage, clip } = parseTaskKey(task);
    if (!isFunctionStage(stage)) continue;
    let attempt = 1;
    while (attempt <= maxAttempts && faultFor(rules, { stage, requestId, clip, task, attempt })) attempt++;
    if (attempt > maxAttempts) doomed.push(task);
    calls.set(task, Math.min(attempt, maxAttempts));
  }
  return { calls, doomed };
}

function expectFinishedWithCause(state: RequestState): void {
  expect(['SUCCEEDED', 'FAILED']).toContain(state.status);
  expect(state.lease).toBeNull();
  if (state.status === 'FAILED') {
    expect(state.error?.code).toEqual(expect.any(String));
    expect(state.error?.message).toEqual(expect.any(String));
  } else {
    expect(state.error).toBeNull();
  }
}

describe('fault injection through the gateway', () => {
  it('ends each faulty request SUCCEEDED or FAILED with its cause (seeded 500s, hangs, 502s, a 422)', async () => {
    const flakyIds = ['flaky-a', 'flaky-b', 'flaky-c', 'flaky-d'];
    const maxAttempts = 4;
    // One request at a time: each stage answers 4 calls at once (max_inflight) and a request
    // makes up to 3, so no call meets a 429 and attempts are exactly the faults' doing.
    const flaky = [];
    for (const id of flakyIds) flaky.push(await submit(id, { max_attempts: maxAttempts }));
    const hangOnce = await submit('hang-once', { stage_timeout_s: { 'transcode-clip': 1 } });
    const hangAlways = await submit('hang-always', {
      stage_timeout_s: { 'detect-objects': 1 },
      max_attempts: 2,
    });
    const badGateway = await submit('bad-gateway');
    const reject = await submit('reject');

    // Seeded 500s: exactly the calls the rule predicts, and the predicted outcome.
    let injected = 0;
    for (const [i, id] of flakyIds.entries()) {
      const { calls, doomed } = flakyExpectation(id, maxAttempts);
      const state = await stack.state(id);
      expectFinishedWithCause(state);
      if (doomed.length === 0) {
        expect(flaky[i]!.status).toBe(200);
        expect(state.status).toBe('SUCCEEDED');
        expect(Object.fromEntries(stack.invocations(id))).toEqual(Object.fromEntries(calls));
        for (const task of ALL_TASKS) expect(state.tasks[task]?.attempts).toBe(calls.get(task));
        injected += [...calls.values()].reduce((a, n) => a + n - 1, 0);
      } else {
        expect(flaky[i]!.status).toBe(502);
        expect(state.status).toBe('FAILED');
        expect(state.error).toMatchObject({ code: 'INJECTED_FAULT', status: 500 });
        expect(doomed).toContain(state.error?.details?.task);
        expect(state.tasks[String(state.error?.details?.task)]).toMatchObject({
          status: 'FAILED',
          attempts: maxAttempts,
        });
      }
    }
    expect(injected).toBeGreaterThan(0); // the seed really exercised retries

    // A stage hanging once past its 1 s timeout: retried, then fine.
    expect(hangOnce.status).toBe(200);
    const hangOnceState = await stack.state('hang-once');
    expect(hangOnceState.status).toBe('SUCCEEDED');
    expect(hangOnceState.tasks['transcode-clip/0001']?.attempts).toBe(2);
    expect(stack.invocations('hang-once').get('transcode-clip/0001')).toBe(2);

    // A stage that always hangs: FAILED with the timeout as its cause, after max_attempts.
    expect(hangAlways.status).toBe(502);
    expect(hangAlways.body.error?.code).toBe('STAGE_TIMEOUT');
    const hangAlwaysState = await stack.state('hang-always');
    expect(hangAlwaysState).toMatchObject({ status: 'FAILED', error: { code: 'STAGE_TIMEOUT' } });
    expect(hangAlwaysState.error?.details?.task).toBe('detect-objects/0002');
    expect(hangAlwaysState.tasks['detect-objects/0002']).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(stack.invocations('hang-always').get('detect-objects/0002')).toBe(2);

    // 502 twice, then an answer: retried like any 5xx.
    expect(badGateway.status).toBe(200);
    const badGatewayCalls = stack.invocations('bad-gateway');
    for (let c = 0; c < CLIPS; c++) expect(badGatewayCalls.get(`sample-frames/000${c}`)).toBe(3);

    // A 422 is not retried: FAILED at once with the stage's own code and status.
    expect(reject.status).toBe(422);
    expect(reject.body.error?.code).toBe('INJECTED_FAULT');
    expect(await stack.state('reject')).toMatchObject({
      status: 'FAILED',
      error: { code: 'INJECTED_FAULT', status: 422, details: { task: 'transcribe-clip/0001' } },
    });
    expect(stack.invocations('reject').get('transcribe-clip/0001')).toBe(1);
  });

  it('survives a stage process that dies just before writing its manifest (the gateway restarts it)', async () => {
    const restartsBefore = stack.gateway.functions.get('transcode-clip')!.restarts;
    const res = await submit('die-1');
    expect(res.status).toBe(200);
    const state = await stack.state('die-1');
    expect(state.status).toBe('SUCCEEDED');
    expect(stack.gateway.functions.get('transcode-clip')!.restarts).toBeGreaterThan(restartsBefore);
    const calls = stack.invocations('die-1');
    expect(calls.get('transcode-clip/0000')).toBeGreaterThanOrEqual(2);
    expect(calls.get('transcode-clip/0002')).toBeGreaterThanOrEqual(2);
    // The dead attempt had written its outputs; the retry rewrote the same keys, and the manifest once.
    const writes = stack.writes('die-1');
    const manifest = state.tasks['transcode-clip/0000']!.manifest!;
    const clipKey = manifest.replace(/manifest\.json$/, 'clip.mp4');
    expect(writes.get(clipKey)).toBe(calls.get('transcode-clip/0000'));
    expect(writes.get(manifest)).toBe(1);
  });

  it('finishes a request whose orchestrator was killed mid-run once the sweeper resumes it, re-running nothing', async () => {
    const id = 'crash-1';
    const orchestratorPid = stack.pid('orchestrator')!;
    const answer = submit(id); // the sync call dies with its orchestrator
    await waitFor(
      () => (stack.invocations(id).get('transcode-clip/0000') ?? 0) > 0,
      'the first per-clip task',
    );
    process.kill(orchestratorPid, 'SIGKILL');
    expect((await answer).status).toBe(502);
    const orphaned = await stack.state(id);
    expect(orphaned.status).toBe('RUNNING');

    // The cron-connector's job, done by hand: sweep until the dead driver's lease has expired.
    await waitFor(async () => {
      const res = await stack.call('/function/sweeper', { method: 'POST' });
      const report = (await res.json()) as { resumed: string[] };
      return report.resumed.includes(id);
    }, 'the sweeper to resume the orphaned request');
    await stack.gateway.asyncIdle();
    const state = await stack.state(id);
    expect(state.status).toBe('SUCCEEDED');
    expect(state.runs).toBe(2);
    // Calls in flight at the kill finished in their stages; the resume reused their manifests.
    for (const [task, n] of stack.invocations(id)) expect({ task, n }).toEqual({ task, n: 1 });
    expect(stack.invocations(id).size).toBe(ALL_TASKS.length);
  });

  it('delivers the callback of an orchestrator killed during its first attempt, from the sweeper; the answer did not wait', async () => {
    const id = 'callback-crash';
    // The first attempt reaches the receiver, and the orchestrator dies before it hears the answer.
    onDelivery = (n) => {
      if (n === 1) process.kill(stack.pid('orchestrator')!, 'SIGKILL');
      return n === 1 ? 500 : 200;
    };
    const answer = await submit(id, {}, { callback_url: receiverUrl });
    expect(answer.status).toBe(200); // answered before the callback was sent
    await waitFor(() => deliveries.length >= 1, 'the first callback attempt');
    await waitFor(async () => {
      await stack.call('/function/sweeper', { method: 'POST' });
      return deliveries.length >= 2;
    }, 'the sweeper to deliver the callback');
    const [first, second] = deliveries;
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    const receiver = new Webhook(`whsec_${Buffer.from(SIGNING_KEY).toString('base64')}`);
    expect(receiver.verify(second!.body, second!.headers as Record<string, string>)).toMatchObject({
      request_id: id,
      status: 'SUCCEEDED',
    });
    const state = await stack.state(id);
    expect(state.callbacks.at(-1)).toMatchObject({ attempt: 2, status_code: 200, delivered: true });
    expect(await stack.store.head(indexKeys.callback(id))).toBeUndefined();
  });

  it('a stage process stopped past its timeout changes nothing in the request that failed meanwhile', async () => {
    const id = 'late-1';
    // transcode-clip stops (SIGSTOP, 3 s) after its first output; the 1 s stage timeout fails the request.
    const answer = await submit(id, { stage_timeout_s: { 'transcode-clip': 1 }, max_attempts: 1 });
    expect(answer.status).toBe(502);
    expect(await stack.state(id)).toMatchObject({ status: 'FAILED', error: { code: 'STAGE_TIMEOUT' } });
    const finalState = (await stack.store.head(requestKeys(id).state))!.etag;

    // Once the process continues, every transcode call it had taken ends, refused.
    const late = () => [...stack.invocations(id).keys()].filter((t) => t.startsWith('transcode-clip/'));
    await waitFor(() => late().every((t) => outcomes(id).has(t)), 'the late calls to end');
    expect(late()).toContain('transcode-clip/0000');
    for (const task of late())
      expect({ task, ended: outcomes(id).get(task) }).toEqual({ task, ended: 'REQUEST_FINISHED' });
    // It had written an output before it stopped: deleted, with no manifest and no claim left.
    const written = stack
      .writeLog()
      .filter((w) => w.requestId === id && w.task === 'transcode-clip/0000' && !w.key.endsWith('/claim.json'))
      .map((w) => w.key);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^results\/default\/transcode-clip\/[0-9a-f]{64}\/clip\.mp4$/);
    const dir = written[0]!.slice(0, written[0]!.lastIndexOf('/') + 1);
    expect([...(await stack.listing()).keys()].filter((k) => k.startsWith(dir))).toEqual([]);
    expect((await stack.store.head(requestKeys(id).state))!.etag).toBe(finalState);
  });

  it('leaves nothing RUNNING after a sweep, and no manifest written twice', async () => {
    const res = await stack.call('/function/sweeper', { method: 'POST' });
    expect(res.status).toBe(200);
    await stack.gateway.asyncIdle();

    const ids = [...(await stack.listing()).keys()]
      .filter((k) => k.endsWith('/metadata/state.json'))
      .map((k) => k.split('/')[1]!);
    expect(ids.length).toBe(12);
    for (const id of ids) expectFinishedWithCause(await stack.state(id));
    const active = [...(await stack.listing()).keys()].filter((k) => k.startsWith(indexKeys.activePrefix));
    expect(active).toEqual([]);

    const writes = stack.writes();
    const manifests = [...writes].filter(([key]) => key.endsWith('/manifest.json'));
    expect(manifests.length).toBeGreaterThan(0);
    for (const [key, times] of manifests) expect({ key, times }).toEqual({ key, times: 1 });
    // Other outputs: rewritten only by the retry of an attempt that failed (of the task that wrote them).
    const perCall = new Map<string, { requestId: string; task: string; key: string; times: number }>();
    for (const w of stack.writeLog()) {
      const id = `${w.requestId} ${w.task} ${w.key}`;
      perCall.set(id, { ...w, times: (perCall.get(id)?.times ?? 0) + 1 });
    }
    for (const { requestId, task, key, times } of perCall.values()) {
      // claim.json is the task's single-flight claim, rewritten by design while it is renewed.
      if (times === 1 || key.endsWith('/claim.json')) continue;
      expect({ key, times }).toEqual({
        key,
        times: Math.min(times, stack.invocations(requestId).get(task) ?? 0),
      });
    }
  });
});
