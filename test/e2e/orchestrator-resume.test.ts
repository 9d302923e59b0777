import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinalResult } from '../../common/contracts/final.js';
import { FUNCTION_STAGES, isFunctionStage } from '../../common/contracts/pipeline.js';
import { requestKeys } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { readState } from '../../common/state/state-store.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { parseTaskKey } from '../../common/task-key.js';
import { type Gateway, startGateway } from '../../gateway/index.js';
import { mulberry32 } from '../helpers/seeded-random.js';

/**
 * The orchestrator's promise under serverless interruptions, end to end: the
 * real orchestrator bundle behind the real local gateway, fake stages in their
 * own processes. `kill -9` the orchestrator at 10 seeded points of one
 * multi-clip request, resume each time; the result must equal an
 * uninterrupted run's, and no task that had succeeded is invoked again.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/functions/fake-stage.ts');
const LEASE_S = 2;

let work: string;
let markers: string;
let store: FolderStore;
let gateway: Gateway;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clipseek-resume-'));
  markers = join(work, 'markers');
  mkdirSync(markers);
  const scripts: Record<string, string> = {};
  for (const stage of FUNCTION_STAGES) {
    scripts[stage] = join(work, `fake-${stage}.mts`);
    writeFileSync(
      scripts[stage],
      `import { serveFakeStage } from ${JSON.stringify(pathToFileURL(FIXTURE).href)};\nawait serveFakeStage('${stage}');\n`,
    );
  }
  store = new FolderStore(join(work, 'bucket'));
  await store.put('uploads/video.mp4', Buffer.from('fake stages do not read it'));
  gateway = await startGateway({
    stackFile: join(ROOT, 'stack.yml'),
    root: ROOT,
    port: 0,
    storageUrl: pathToFileURL(join(work, 'bucket')).href,
    scripts,
    only: ['orchestrator', ...FUNCTION_STAGES],
    env: {
      ...process.env,
      LEASE_S: String(LEASE_S),
      STATE_FLUSH_MS: '30',
      MAX_CONCURRENT_INVOCATIONS: '2',
      MARKER_DIR: markers,
      FAKE_STAGE_DELAY_MS: '60',
    },
    cron: false,
    functionOutput: 'ignore',
    logger: createLogger({ name: 'resume-test', level: 'silent' }),
    restartBackoff: { baseMs: 20, maxMs: 200 },
    stopGraceMs: 2000,
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const orchestrator = (body: unknown) =>
  fetch(`${gateway.url}/function/orchestrator`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

function invocations(): string[] {
  try {
    return readFileSync(join(markers, 'invocations.log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Final JSON without what legitimately differs between two runs (ids, timings, the digests results are under). */
function comparable(id: string, final: unknown): unknown {
  const text = JSON.stringify(final)
    .replaceAll(id, '<id>')
    .replace(/(results\/[a-z0-9-]+\/[a-z-]+\/)[0-9a-f]{64}\//g, '$1<digest>/');
  const value = JSON.parse(text) as { metrics?: unknown };
  delete value.metrics;
  return value;
}

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function succeededTasks(id: string): Promise<string[]> {
  const { state } = await readState(store, id);
  return Object.entries(state.tasks)
    .filter(([, t]) => t.status === 'SUCCEEDED')
    .map(([k]) => k);
}

describe('orchestrator: kill -9 and resume through the gateway', () => {
  let steady: unknown;
  const request = { video_uri: 'store://uploads/video.mp4', query: 'find cars or the budget' };

  it('an uninterrupted run invokes every task exactly once', async () => {
    const res = await orchestrator({ ...request, request_id: 'steady' });
    expect(res.status).toBe(200);
    steady = await res.json();
    const calls = invocations();
    expect(calls).toHaveLength(3 + 3 * 4);
    expect(new Set(calls).size).toBe(calls.length);
    expect((steady as { matches: unknown[] }).matches).toHaveLength(2);
  });

  it('killed at 10 seeded points and resumed, it ends with the same final.json and no succeeded task re-run', async () => {
    rmSync(join(markers, 'invocations.log'), { force: true });
    const random = mulberry32(20261125);
    const points = new Set<number>();
    while (points.size < 10) points.add(1 + Math.floor(random() * 14));
    const killAt = [...points].sort((a, b) => a - b);

    const id = 'interrupted';
    // A video of its own (other bytes, the same fake analysis): on the steady run's video every
    // result would be reused and there would be nothing to interrupt.
    await store.put('uploads/interrupted.mp4', Buffer.from('another fake video'));
    void orchestrator({ ...request, video_uri: 'store://uploads/interrupted.mp4', request_id: id }).catch(
      () => undefined,
    );
    const protectedCounts = new Map<string, number>();
    for (const point of killAt) {
      await until(() => invocations().length >= point, `invocation ${point}`);
      const pid = gateway.functions.get('orchestrator')?.pid;
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, 'SIGKILL');
      // Everything that had succeeded by now must never be invoked again.
      const counts = tally(invocations());
      for (const task of await succeededTasks(id)) {
        // copy-source runs in the orchestrator, no function: its attempts are checked below.
        if (isFunctionStage(parseTaskKey(task).stage)) protectedCounts.set(task, counts.get(task) ?? 0);
      }
      await until(() => {
        const next = gateway.functions.get('orchestrator')?.pid;
        return next !== undefined && next !== pid;
      }, 'the orchestrator to restart');
      await new Promise((r) => setTimeout(r, LEASE_S * 1000 + 200)); // the dead driver's lease expires
      void orchestrator({ resume: id }).catch(() => undefined);
    }
    // The last resume may still be running; a resume whose driver was killed needs another.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { state } = await readState(store, id);
      if (state.status === 'SUCCEEDED') break;
      if (Date.now() > deadline) throw new Error(`request still ${state.status}`);
      if (!state.lease || Date.parse(state.lease.expires_at) < Date.now()) await orchestrator({ resume: id });
      await new Promise((r) => setTimeout(r, 100));
    }
    const { value: interrupted } = await store.getJson(requestKeys(id).final);
    expect(comparable(id, interrupted)).toEqual(comparable('steady', steady));

    const counts = tally(invocations());
    for (const [task, before] of protectedCounts)
      expect({ task, calls: counts.get(task) }).toEqual({ task, calls: before });
    const { state } = await readState(store, id);
    // Every kill that landed after a driver took the lease forced one more take-over.
    expect(state.runs).toBeGreaterThan(killAt.length / 2);
    console.log(`kill points (invocation #): ${killAt.join(', ')}; driver runs: ${state.runs}`);
    expect(Object.values(state.tasks).every((t) => t.status === 'SUCCEEDED')).toBe(true);
    // Every kill came after the first invocation, so after the copy: it was never made again. It is one
    // attempt, or none when the driver that made it died before state.json said so and it was reused.
    const copy = state.tasks['copy-source']!;
    expect(copy.attempts).toBeLessThanOrEqual(1);
    if (copy.attempts === 0) expect(copy.reused).toBe(true);
  }, 120_000);
});

describe('orchestrator: async through the gateway', () => {
  it('/async-function/orchestrator answers 202 and the X-Callback-Url receives final.json', async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    try {
      const res = await fetch(`${gateway.url}/async-function/orchestrator`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-callback-url': `http://127.0.0.1:${port}/done` },
        body: JSON.stringify({
          video_uri: 'store://uploads/video.mp4',
          query: 'budget',
          request_id: 'async-1',
        }),
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('x-call-id')).toBeTruthy();
      await until(() => received.length > 0, 'the callback');
      const [callback] = received;
      expect(callback?.headers['x-function-status']).toBe('200');
      expect(callback?.headers['x-call-id']).toBe(res.headers.get('x-call-id'));
      const final = FinalResult.parse(JSON.parse(callback!.body));
      expect(final).toMatchObject({ request_id: 'async-1', status: 'SUCCEEDED' });
      expect(final.matches.map((m) => m.clips)).toEqual([[2]]);
    } finally {
      receiver.close();
    }
  });
});

function tally(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}
