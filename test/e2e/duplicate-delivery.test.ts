/**
 * Duplicate async deliveries: the OpenFaaS queue-worker delivers a call again
 * when it runs past ack_wait, so the same orchestrator call can arrive twice
 * (or more) while the first is still running, or after it finished. Through
 * the real gateway's /async-function/orchestrator and the real orchestrator,
 * with fake stages counting their calls: one run, every task invoked once.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FUNCTION_STAGES } from '../../common/contracts/pipeline.js';
import { requestIdFor, requestIdKeyFrom } from '../../functions/orchestrator/request-identity.js';
import { type Stack, startStack, waitFor } from '../helpers/stack-harness.js';

const TASKS = 15; // 3 request-level tasks + 4 per clip × 3 clips
const SIGNING_KEY = 'duplicate-delivery-signing-key';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

let stack: Stack;
let receiver: Server;
let callbackUrl: string;
const callbacks: Delivery[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      callbacks.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
  stack = await startStack({
    fakeStages: true,
    only: ['orchestrator', ...FUNCTION_STAGES],
    env: {
      FAKE_STAGE_DELAY_MS: '40',
      LEASE_S: '2',
      STATE_FLUSH_MS: '50',
      CALLBACK_SIGNING_KEY: SIGNING_KEY,
    },
  });
});

afterAll(async () => {
  await stack?.close();
  receiver?.close();
});

/**
 * One delivery, as the queue-worker makes it: POST /async-function/orchestrator
 * with a callback (and, for a redelivery, the X-Call-Id of the first delivery).
 */
async function deliver(body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await stack.call('/async-function/orchestrator', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-callback-url': callbackUrl, ...headers },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return res.headers.get('x-call-id')!;
}

/**
 * Each test on a video of its own: requests on one video share their results, and each test
 * counts the work its own request does.
 */
let video = 'store://uploads/video.mp4';
let videos = 0;
beforeEach(async () => {
  const key = `uploads/video-${++videos}.mp4`;
  await stack.store.put(key, Buffer.from(`fake video ${videos}`));
  video = `store://${key}`;
});

const submitBody = (extra: Record<string, unknown> = {}) => ({
  video_uri: video,
  query: 'find the car',
  ...extra,
});

/** The id the orchestrator derives for a key or a call id, with the stack's secret. */
const derivedId = (from: { idempotencyKey?: string; callId?: string }) =>
  requestIdFor(submitBody() as never, from, requestIdKeyFrom(SIGNING_KEY)).id;

function callbacksFor(callIds: string[]): Delivery[] {
  return callbacks.filter((c) => callIds.includes(String(c.headers['x-call-id'])));
}

/** Every task invoked exactly once. */
function expectOneRun(requestId: string): void {
  const calls = stack.invocations(requestId);
  expect(calls.size).toBe(TASKS);
  for (const [task, n] of calls) expect({ task, n }).toEqual({ task, n: 1 });
}

describe('duplicate async deliveries of the same orchestrator call', () => {
  it('the same request_id delivered three times, twice while the first runs: one run', async () => {
    const id = 'dup-request-id';
    const first = await deliver(submitBody({ request_id: id }));
    await waitFor(() => stack.invocations(id).size > 0, 'the first delivery to start working');
    const again = await Promise.all([
      deliver(submitBody({ request_id: id })),
      deliver(submitBody({ request_id: id })),
    ]);
    await stack.gateway.asyncIdle();

    const state = await stack.state(id);
    expect(state.status).toBe('SUCCEEDED');
    expect(state.runs).toBe(1);
    expectOneRun(id);
    // Every delivery was answered: the first with the result, the others with the request's status.
    const answers = callbacksFor([first, ...again]);
    expect(answers.map((a) => a.headers['x-function-status']).sort()).toEqual(['200', '202', '202']);
    for (const a of answers) expect(JSON.parse(a.body).request_id).toBe(id);
  });

  it('the same Idempotency-Key delivered twice at once, and once more after it finished: one run', async () => {
    const key = 'order-7f3c-upload-1';
    const id = derivedId({ idempotencyKey: key });
    const headers = { 'idempotency-key': key };
    const concurrent = await Promise.all([deliver(submitBody(), headers), deliver(submitBody(), headers)]);
    await stack.gateway.asyncIdle();
    const late = await deliver(submitBody(), headers);
    await stack.gateway.asyncIdle();

    expect((await stack.state(id)).status).toBe('SUCCEEDED');
    expect((await stack.state(id)).runs).toBe(1);
    expectOneRun(id);
    // The late redelivery gets the same final result the first delivery produced.
    const finals = callbacksFor([...concurrent, late]).filter(
      (a) => a.headers['x-function-status'] === '200',
    );
    expect(finals.length).toBeGreaterThanOrEqual(2);
    const results = finals.map((a) => JSON.parse(a.body) as { request_id: string; matches: unknown });
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]!.request_id).toBe(id);
  });

  it('a call with neither request_id nor key, redelivered with its X-Call-Id while running and after: one run', async () => {
    const callId = 'queue-worker-call-0001';
    const id = derivedId({ callId });
    const headers = { 'x-call-id': callId };
    await deliver(submitBody(), headers);
    await waitFor(() => stack.invocations(id).size > 0, 'the first delivery to start working');
    await deliver(submitBody(), headers);
    await stack.gateway.asyncIdle();
    await deliver(submitBody(), headers);
    await stack.gateway.asyncIdle();

    expect((await stack.state(id)).runs).toBe(1);
    expectOneRun(id);
    const answers = callbacks.filter((c) => c.headers['x-call-id'] === callId);
    expect(answers.map((a) => a.headers['x-function-status']).sort()).toEqual(['200', '200', '202']);
  });

  it('a continuation ({"resume"}) delivered twice after its driver died: one of them drives, nothing runs twice', async () => {
    const id = 'dup-resume';
    const orchestrator = stack.pid('orchestrator')!;
    const answer = stack.submit(submitBody({ request_id: id }));
    await waitFor(
      () => (stack.invocations(id).get('transcode-clip/0001') ?? 0) > 0,
      'per-clip work to start',
    );
    process.kill(orchestrator, 'SIGKILL');
    expect((await answer).status).toBe(502);
    const orphan = await stack.state(id);
    expect(orphan.status).toBe('RUNNING');
    // Once the dead driver's lease has expired, the same continuation arrives twice.
    await waitFor(() => Date.parse(orphan.lease!.expires_at) < Date.now(), 'the lease to expire', 10_000);
    await Promise.all([deliver({ resume: id }), deliver({ resume: id })]);
    await stack.gateway.asyncIdle();

    const state = await stack.state(id);
    expect(state.status).toBe('SUCCEEDED');
    expect(state.runs).toBe(2); // the first run and exactly one of the two resumes
    expectOneRun(id);
  });
});
