import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cleanEnv, runCli, startCli, until } from '../helpers/cli.js';

/**
 * `clipseek up` in the foreground, with the real functions: it starts every
 * function of stack.yml, says where things are, refuses a second stack on the
 * same data folder, and on Ctrl-C stops every process it started.
 */
const work = mkdtempSync(join(tmpdir(), 'clipseek-up-'));
const data = join(work, 'data');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Processes whose environment names this test's bucket: the functions the stack started. */
function processesOnBucket(bucketUrl: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`STORAGE_URL=${bucketUrl}`)) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

it('starts the stack, prints where things are, and stops every function on Ctrl-C', async () => {
  const up = startCli(['up', '--port', '0', '--data', data, '--quiet'], { env: cleanEnv() });
  try {
    const upFile = join(data, 'up.json');
    const running = await until(
      () => existsSync(upFile) && (JSON.parse(readFileSync(upFile, 'utf8')) as Record<string, string>),
      'up.json',
      90_000,
    );
    expect(running.pid).toBe(up.pid);
    expect(running.storage_url).toBe(`file://${data}/bucket`);

    const functions = (await (await fetch(`${running.gateway_url}/system/functions`)).json()) as Array<{
      name: string;
    }>;
    expect(functions.map((f) => f.name).sort()).toEqual(
      [
        'cut-clips',
        'detect-objects',
        'extract-audio',
        'orchestrator',
        'sample-frames',
        'segment-speech',
        'sweeper',
        'transcode-clip',
        'transcribe-clip',
      ].sort(),
    );
    const pids = processesOnBucket(running.storage_url!);
    expect(pids.length).toBeGreaterThanOrEqual(functions.length);

    // A generated signing key, readable by its owner only.
    const key = join(data, 'secrets', 'callback-signing-key');
    expect(readFileSync(key, 'utf8').trim()).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/); // 32 bytes, Standard Webhooks' form
    expect(statSync(key).mode & 0o077).toBe(0);

    // One stack per data folder.
    const second = await runCli(['up', '--port', '0', '--data', data], { env: cleanEnv() });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('ALREADY_UP');

    // Other verbs find this stack through up.json.
    const ls = await runCli(['ls', '--data', data], { env: cleanEnv() });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('no requests yet');

    up.kill('SIGINT');
    const result = await up.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`gateway    ${running.gateway_url}`);
    expect(result.stdout).toContain(`store      ${running.storage_url}`);
    expect(result.stderr).toContain('clipseek: stopped');
    expect(existsSync(upFile)).toBe(false);
    expect(processesOnBucket(running.storage_url!)).toEqual([]);
  } finally {
    // Also when an assertion failed midway: stop the stack and leave no function process behind.
    up.kill('SIGINT');
    await Promise.race([up.done, new Promise((r) => setTimeout(r, 10_000))]);
    up.kill('SIGKILL');
    for (const pid of processesOnBucket(`file://${data}/bucket`)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}, 120_000);
