import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { downCommand } from '../../cli/commands/down.js';
import { lsCommand } from '../../cli/commands/ls.js';
import { writeRunningStack } from '../../cli/local-stack.js';
import { dataDirFrom } from '../../cli/settings.js';
import { indexKeys } from '../../common/keys.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { memoryIo } from '../helpers/cli.js';

let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the data folder: every verb reads --data and $CLIPSEEK_DATA alike, else finds it as git does', () => {
  it.each([
    { flag: undefined, env: undefined, want: '/work/.clipseek' },
    { flag: undefined, env: '  ', want: '/work/.clipseek' },
    { flag: undefined, env: ' /srv/data ', want: '/srv/data' },
    { flag: 'd', env: '/srv/data', want: '/work/d' },
  ])('--data $flag, CLIPSEEK_DATA "$env" → $want', ({ flag, env, want }) => {
    const nothingAbove = () => false;
    expect(dataDirFrom(flag, env === undefined ? {} : { CLIPSEEK_DATA: env }, '/work', nothingAbove)).toBe(
      want,
    );
  });

  it.each([
    {
      cwd: '/home/me/proj/src/deep',
      has: ['/home/me/proj/.clipseek/bucket'],
      want: '/home/me/proj/.clipseek',
    },
    { cwd: '/home/me/proj', has: ['/home/me/proj/.clipseek/up.json'], want: '/home/me/proj/.clipseek' },
    // The nearest wins, as with git.
    {
      cwd: '/home/me/proj/sub',
      has: ['/home/me/.clipseek/secrets', '/home/me/proj/sub/.clipseek/reports'],
      want: '/home/me/proj/sub/.clipseek',
    },
    // Inside <data>/bucket: the folder store's own .clipseek/ (tmp, meta, locks) is not a data folder.
    {
      cwd: '/home/me/proj/.clipseek/bucket/requests',
      has: ['/home/me/proj/.clipseek/bucket/.clipseek/tmp', '/home/me/proj/.clipseek/bucket'],
      want: '/home/me/proj/.clipseek',
    },
    // None anywhere up: here.
    { cwd: '/home/me/proj/src', has: [], want: '/home/me/proj/src/.clipseek' },
  ])('from $cwd, with $has → $want', ({ cwd, has, want }) => {
    expect(dataDirFrom(undefined, {}, cwd, (path) => has.includes(path))).toBe(want);
  });

  it('ls run from a subfolder lists the requests of the data folder above it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'clipseek-data-'));
    const sub = join(dir, 'src', 'deep');
    mkdirSync(sub, { recursive: true });
    const store = new FolderStore(join(dir, '.clipseek', 'bucket'));
    await store.put(
      indexKeys.request('r_above0001'),
      JSON.stringify({ request_id: 'r_above0001', created_at: new Date().toISOString(), query: 'find cars' }),
    );
    const { io, out } = memoryIo(sub, {});
    expect(await lsCommand.run([], io)).toBe(0);
    expect(out()).toContain('r_above0001');
    expect(out()).toContain('find cars');
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
