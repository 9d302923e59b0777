/**
 * serveFunction as a real process: the handler its init built serves calls,
 * and SIGTERM aborts the runtime's `stopping` signal (what the orchestrator's
 * drivers stop on) while in-flight calls still get their answers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gateway/free-port.js';
import { waitFor } from '../helpers/wait.js';

const REPO = resolve(import.meta.dirname, '../..');

/** test/fixtures/functions/adapter-function.ts as its own process, the way the gateway runs it. */
async function startAdapterFunction(work: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/functions/adapter-function.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      STORAGE_URL: pathToFileURL(join(work, 'bucket')).href,
      PORT: String(port),
      SHUTDOWN_GRACE: '10s',
      MARKER_DIR: work,
    },
    stdio: 'ignore',
  });
  const listening = () =>
    fetch(`${url}/_/health`).then(
      (res) => res.status === 200,
      () => false,
    );
  await waitFor(listening, 'the function to listen');
  return { child, url };
}

let work: string;
let fn: { child: ChildProcess; url: string };
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'clipseek-serve-function-'));
  fn = await startAdapterFunction(work);
});
afterAll(async () => {
  if (fn.child.exitCode === null && fn.child.signalCode === null) fn.child.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

describe('serveFunction in its own process', () => {
  it('serves calls with the handler its init built from the runtime', async () => {
    const res = await fetch(fn.url, { method: 'POST', body: '{"n":1}', headers: { 'X-Call-Id': 'c-1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      callId: 'c-1',
      body: { n: 1 },
      storage: pathToFileURL(join(work, 'bucket')).href,
    });
  });

  it('aborts runtime.stopping on SIGTERM; the call held on it is answered, then the process exits 0', async () => {
    const held = fetch(`${fn.url}/until-stopping`, { method: 'POST', headers: { 'X-Call-Id': 'held-1' } });
    await waitFor(() => existsSync(join(work, 'held-held-1')), 'the call to reach the handler');
    const exited = new Promise<number | null>((done) => fn.child.once('exit', (code) => done(code)));
    fn.child.kill('SIGTERM');
    const res = await held;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ stopping: true });
    expect(await exited).toBe(0);
  });
});
