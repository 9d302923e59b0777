import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from '../../cli/command.js';
import { makeWatchCommand } from '../../cli/commands/watch.js';
import { COMMANDS, main } from '../../cli/main.js';
import { ErrorBody } from '../../common/contracts/common.js';
import { createState } from '../../common/state/state-store.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { memoryIo } from '../helpers/cli.js';
import { makeState } from '../helpers/state.js';

/**
 * How the command line reports what went wrong, run in this process through
 * main(): the error code and exit status, the error body on stdout with
 * --json, a wrong option in the command's own words.
 */
const work = mkdtempSync(join(tmpdir(), 'clipseek-cli-errors-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bucket = join(work, 'bucket');
const store = new FolderStore(bucket);
// Nothing listens on port 9: a verb that calls the gateway fails at once.
const common = [
  '--storage',
  pathToFileURL(bucket).href,
  '--data',
  join(work, 'data'),
  '--gateway',
  'http://127.0.0.1:9',
];

async function clipseek(argv: string[], commands?: Command[]) {
  const { io, out, err } = memoryIo(work);
  const code = await main([...argv, ...common], io, commands);
  return { code, stdout: out(), stderr: err() };
}

describe('an unknown request id', () => {
  it('report says REQUEST_NOT_FOUND', async () => {
    const r = await clipseek(['report', 'r_never_submitted']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('clipseek: REQUEST_NOT_FOUND: no request r_never_submitted in file://');
  });

  it('watch ends with REQUEST_NOT_FOUND once its grace has passed', async () => {
    const watch = makeWatchCommand({ missingGraceMs: 200 });
    const started = Date.now();
    const r = await clipseek(['watch', 'r_never_submitted'], [watch]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('clipseek: REQUEST_NOT_FOUND: no request r_never_submitted');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  }, 5_000);

  it('watch follows a request whose state.json appears within the grace', async () => {
    const watch = makeWatchCommand({ missingGraceMs: 5_000 });
    const state = { ...makeState(), request_id: 'r_late0001', status: 'CANCELLED' as const };
    setTimeout(() => void createState(store, state), 400);
    const r = await clipseek(['watch', state.request_id, '--no-report'], [watch]);
    expect(r.stderr).not.toContain('REQUEST_NOT_FOUND');
    expect(r.stdout).toBe('r_late0001 CANCELLED\n');
    expect(r.code).toBe(1);
  }, 10_000);
});

describe('--json: errors are the error body on stdout, with the same exit status', () => {
  const withJson = COMMANDS.filter((c) => c.usage.includes('--json')).map((c) => c.name);

  it('is every verb that takes --json', () => {
    expect(withJson.sort()).toEqual(['cancel', 'ls', 'resume', 'run', 'search', 'status', 'videos', 'watch']);
  });

  it.each(withJson)('%s: a usage error is {"error":{"code":"USAGE",…}}, exit 2', async (verb) => {
    const r = await clipseek([verb, '--json', '--frobnicate']);
    expect(r.code).toBe(2);
    const body = ErrorBody.parse(JSON.parse(r.stdout));
    expect(body.error).toMatchObject({ code: 'USAGE', message: 'unknown option --frobnicate' });
    // Humans still read it on stderr.
    expect(r.stderr).toContain('unknown option --frobnicate');
  });

  it.each([
    ['status', ['status', 'r_nothing', '--json']],
    ['watch', ['watch', 'last', '--json']],
    ['cancel', ['cancel', 'r_nothing', '--json']],
  ])('%s: a failure is its error body, exit 1', async (_, argv) => {
    const r = await clipseek(argv);
    expect(r.code).toBe(1);
    const body = ErrorBody.parse(JSON.parse(r.stdout));
    expect(['REQUEST_NOT_FOUND', 'GATEWAY_UNREACHABLE']).toContain(body.error.code);
    expect(r.stderr).toContain(`clipseek: ${body.error.code}: ${body.error.message}`);
  });

  it('nothing on stdout without --json', async () => {
    const r = await clipseek(['status', 'r_nothing']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});

describe('a wrong option: the command says what, then its usage', () => {
  const status = COMMANDS.find((c) => c.name === 'status')!;
  const run = COMMANDS.find((c) => c.name === 'run')!;

  it.each([
    [['status', 'last', '--frobnicate'], 'unknown option --frobnicate', status],
    [['status', 'last', '-x'], 'unknown option -x', status],
    [['status', 'last', '--json=yes'], '--json takes no value', status],
    [['run', 'video.mp4', '-q'], '-q needs a value', run],
    [['run', 'video.mp4', '--query', '--json'], '--query needs a value', run],
  ])('%j', async (argv, message, command) => {
    const r = await clipseek(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^clipseek: ${message.replace(/[-.]/g, '\\$&')}`));
    expect(r.stderr).toContain(command.usage);
    expect(r.stderr).not.toContain('To specify');
    expect(r.stderr).not.toContain('ambiguous');
  });
});
