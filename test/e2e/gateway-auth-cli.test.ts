import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { type Gateway, startGateway } from '../../gateway/index.js';

const ROOT = join(import.meta.dirname, '../..');
const STACK = join(ROOT, 'test/fixtures/functions/stack.yml');
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('local gateway with basic auth', () => {
  let gateway: Gateway | undefined;
  afterAll(async () => {
    await gateway?.close();
  });

  it('requires the credentials on /system/* and function routes, not on /healthz', async () => {
    gateway = await startGateway({
      stackFile: STACK,
      port: 0,
      only: ['echo'],
      basicAuth: { user: 'admin', password: 's3cret' },
      functionOutput: 'ignore',
      logger: createLogger({ name: 'gateway-test', level: 'silent' }),
    });
    const url = gateway.url;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    for (const [path, method] of [
      ['/system/functions', 'GET'],
      ['/system/function/echo', 'GET'],
      ['/function/echo', 'POST'],
      ['/async-function/echo', 'POST'],
    ] as const) {
      const anonymous = await fetch(`${url}${path}`, { method });
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), path).toMatch(/^Basic/);
      const wrong = await fetch(`${url}${path}`, {
        method,
        headers: { Authorization: basic('admin', 'nope') },
      });
      expect(wrong.status, path).toBe(401);
      const right = await fetch(`${url}${path}`, {
        method,
        headers: { Authorization: basic('admin', 's3cret') },
      });
      expect(right.status, path).toBeLessThan(300);
    }
  });

  it('stops its function processes on close()', async () => {
    const pid = gateway!.functions.get('echo')!.pid!;
    expect(alive(pid)).toBe(true);
    await gateway!.close();
    expect(alive(pid)).toBe(false);
    gateway = undefined;
  });
});

describe('gateway/main.ts', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves the stack from the command line and stops every function on SIGTERM', async () => {
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'gateway/main.ts',
        '--stack',
        STACK,
        '--port',
        '0',
        '--only',
        'echo',
        '--quiet-functions',
      ],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child!.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /gateway ready at (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`gateway exited early: ${stderr}`)));
    });
    const res = await fetch(`${url}/function/echo`, { method: 'POST', body: 'from the cli test' });
    expect(res.status).toBe(200);
    const { pid, body } = (await res.json()) as { pid: number; body: string };
    expect(body).toBe('from the cli test');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(alive(pid)).toBe(false);
  });
});
