/**
 * Storage faults: the orchestrator (OrchestratorService, in process) and the
 * fake stages both on an S3Store whose client answers a seeded 5 % of calls
 * with 503 SlowDown. A 503 escaping the orchestrator is what a client (retry
 * with the same request_id) and the sweeper (resume once the lease expired)
 * see; together they must bring every request to SUCCEEDED or FAILED with its
 * cause, with each task's manifest written once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestState } from '../../common/contracts/state.js';
import { type ClipseekError, toClipseekError } from '../../common/errors.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import { runStageOnce } from '../../common/stage.js';
import { isTerminal } from '../../common/state/lifecycle.js';
import { readState } from '../../common/state/state-store.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { taskKey } from '../../common/task-key.js';
import type { StageInvoker } from '../../functions/orchestrator/invoker.js';
import { OrchestratorService } from '../../functions/orchestrator/service.js';
import { sweep } from '../../functions/sweeper/sweep.js';
import { fakeStages } from '../helpers/fake-stages.js';
import { silentLogger, testConfig } from '../helpers/orchestrator-harness.js';
import { type ThrottledS3, throttledS3 } from '../helpers/throttled-s3.js';

const BUCKET = 'media';
const IDS = ['slow-a', 'slow-b', 'slow-c', 'slow-d'];
const LEASE_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let s3: ThrottledS3;
const invocations = new Map<string, number>();
/** Key → the calls ("<request> <task>") that wrote it. */
const writers = new Map<string, Set<string>>();

/** The store as one call sees it: what it writes is recorded as that call's. */
function recordingStore(call: string): ObjectStore {
  const note = (key: string) => writers.set(key, (writers.get(key) ?? new Set()).add(call));
  return new Proxy(s3.store, {
    get(target, prop) {
      if (prop === 'put' || prop === 'putIfAbsent' || prop === 'putIfMatch') {
        const method = target[prop] as (key: string, ...rest: unknown[]) => Promise<unknown>;
        return (key: string, ...rest: unknown[]) => {
          note(key);
          return method.call(target, key, ...rest);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
const escaped: ClipseekError[] = [];

beforeAll(async () => {
  s3 = throttledS3({ bucket: BUCKET, rate: 0, seed: 503 });
  // A video per request: each request's own calls meet the faults (on one video they would share results).
  for (const id of IDS) await s3.store.put(`uploads/${id}.mp4`, Buffer.from(`the fake video of ${id}`));
  s3.rate = 0.05;
});
afterAll(() => s3?.restore());

/** The stages, in process, on the same throttled store; their failures come back as the gateway would classify them. */
const invoke: StageInvoker = async (stage, input, { signal }) => {
  const { request_id, clip } = input as { request_id: string; clip?: number };
  const task = `${request_id} ${taskKey(stage, clip)}`;
  invocations.set(task, (invocations.get(task) ?? 0) + 1);
  try {
    const { manifest } = await runStageOnce(fakeStages[stage] as never, input, {
      store: recordingStore(task),
      logger: silentLogger,
      signal: signal ?? new AbortController().signal,
      now: () => new Date(),
    });
    return manifest as never;
  } catch (err) {
    throw toClipseekError(err); // STORAGE_THROTTLED stays retryable, as over HTTP (503 + Retry-After)
  }
};

/** A fresh orchestrator replica (its own lease owner), as each new invocation would be. */
function replica(): OrchestratorService {
  return new OrchestratorService({
    store: s3.store,
    invoke,
    logger: silentLogger,
    now: () => new Date(),
    random: Math.random,
    config: testConfig({ leaseMs: LEASE_MS, flushIntervalMs: 20, sourcePolicy: { allowedHosts: [] } }),
    continueLater: async () => {},
  });
}

/** A client that retries a 5xx with the same request_id until it gets an answer. */
async function clientSubmit(id: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await replica().submit(
        {
          video_uri: `store://uploads/${id}.mp4`,
          query: 'find the car',
          profile: 'default',
          request_id: id,
          overrides: { run: { max_attempts: 6, backoff_base_ms: 10, backoff_max_ms: 50 } },
        },
        undefined,
      );
      return;
    } catch (err) {
      escaped.push(toClipseekError(err));
      await sleep(20);
    }
  }
}

async function stateOf(id: string): Promise<RequestState | undefined> {
  try {
    return (await readState(s3.store, id)).state;
  } catch {
    return undefined; // throttled (or not created yet): ask again later
  }
}

/** The cron-connector's job: sweep until every request is finished. */
async function sweepUntilFinished(): Promise<number> {
  for (let round = 1; round <= 200; round++) {
    const states = await Promise.all(IDS.map(stateOf));
    if (states.every((s) => s && isTerminal(s.status))) return round;
    const resumed: Promise<unknown>[] = [];
    await sweep({
      store: s3.store,
      logger: silentLogger,
      now: () => new Date(),
      graceMs: 0,
      resume: async (id) => {
        resumed.push(
          replica()
            .resume(id)
            .catch((err: unknown) => escaped.push(toClipseekError(err))),
        );
      },
    }).catch((err: unknown) => escaped.push(toClipseekError(err)));
    await Promise.all(resumed);
    await sleep(LEASE_MS / 2);
  }
  s3.rate = 0;
  const stuck = await Promise.all(
    IDS.map(async (id) => {
      const state = await stateOf(id);
      return `${id}: ${state?.status ?? 'no state'}, indexed ${s3.objects.has(indexKeys.active(id))}, source copy ${state?.tasks['copy-source']?.status ?? 'none'}`;
    }),
  );
  throw new Error(`requests still unfinished after 200 sweeps: ${stuck.join('; ')}`);
}

describe('storage answering 503 SlowDown', () => {
  it('brings every request to SUCCEEDED or FAILED with its cause, each manifest written once', async () => {
    await Promise.all(IDS.map(clientSubmit));
    await sweepUntilFinished();
    expect(s3.throttled()).toBeGreaterThan(0);
    // Only retryable storage errors may escape the orchestrator: they are 5xx to the caller.
    for (const e of escaped) {
      expect({ code: e.code, message: e.message, retryable: e.retryable }).toMatchObject({ retryable: true });
    }

    s3.rate = 0; // the checks themselves read reliably
    const statuses: string[] = [];
    for (const id of IDS) {
      const { state } = await readState(s3.store, id);
      statuses.push(state.status);
      expect(['SUCCEEDED', 'FAILED']).toContain(state.status);
      expect(state.lease).toBeNull();
      if (state.status === 'FAILED') {
        expect(state.error?.code).toEqual(expect.any(String));
      } else {
        expect(s3.objects.has(requestKeys(id).final)).toBe(true);
        for (const [key, task] of Object.entries(state.tasks)) {
          expect({ key, status: task.status }).toEqual({ key, status: 'SUCCEEDED' });
        }
      }
    }
    expect(statuses).toContain('SUCCEEDED');

    for (const [key, times] of s3.writes) {
      if (key.endsWith('/manifest.json')) expect({ key, times }).toEqual({ key, times: 1 });
      // A stage's outputs are rewritten only by a retry after a failed attempt (of a call that wrote them).
      // claim.json is the task's single-flight claim, rewritten by design while it is renewed.
      if (key.endsWith('/claim.json') || times <= 1 || !key.startsWith('results/')) continue;
      const calls = [...(writers.get(key) ?? [])].reduce((n, call) => n + (invocations.get(call) ?? 0), 0);
      expect({ key, times }).toEqual({ key, times: Math.min(times, calls) });
    }

    const report = await sweep({
      store: s3.store,
      logger: silentLogger,
      now: () => new Date(),
      graceMs: 0,
      resume: async () => {},
    });
    expect(report.resumed).toEqual([]);
    expect([...s3.objects.keys()].filter((k) => k.startsWith(indexKeys.activePrefix))).toEqual([]);
  });
});
