import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { downCommand } from '../../cli/commands/down.js';
import { writeRunningStack } from '../../cli/local-stack.js';
import { dataDirFrom } from '../../cli/settings.js';

let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the data folder: every verb reads --data and $CLIPSEEK_DATA alike', () => {
  it.each([
    { flag: undefined, env: undefined, want: '/work/.clipseek' },
    { flag: undefined, env: '  ', want: '/work/.clipseek' },
    { flag: undefined, env: ' /srv/data ', want: '/srv/data' },
    { flag: 'd', env: '/srv/data', want: '/work/d' },
  ])('--data $flag, CLIPSEEK_DATA "$env" → $want', ({ flag, env, want }) => {
    expect(dataDirFrom(flag, env === undefined ? {} : { CLIPSEEK_DATA: env }, '/work')).toBe(want);
  });

  it('down stops the stack up started on a $CLIPSEEK_DATA written with spaces around it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'clipseek-data-'));
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    // What `up` writes: it resolves the folder with the value trimmed.
    writeRunningStack(dir, {
      pid: child.pid!,
      gateway_url: 'http://127.0.0.1:1',
      storage_url: 'file:///nowhere',
      started_at: new Date().toISOString(),
    });
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => {
      text += b.toString();
    });
    const io = { out, err: new PassThrough(), env: { CLIPSEEK_DATA: ` ${dir} ` }, cwd: tmpdir() };
    expect(await downCommand.run([], io)).toBe(0);
    expect(text).toBe(`stopped the stack on ${dir} (pid ${child.pid})\n`);
    await exited;
  });
});
