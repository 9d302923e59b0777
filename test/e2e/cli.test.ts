import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../common/contracts/common.js';
import { FinalResult } from '../../common/contracts/final.js';
import { FUNCTION_STAGES } from '../../common/contracts/pipeline.js';
import { RequestState } from '../../common/contracts/state.js';
import { requestKeys } from '../../common/keys.js';
import { createLogger } from '../../common/logger.js';
import { readState } from '../../common/state/state-store.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { type Gateway, startGateway } from '../../gateway/index.js';
import { cleanEnv, fakeStageScripts, ROOT, runCli, until } from '../helpers/cli.js';

/**
 * The `clipseek` command end to end, as a user runs it (node bin/clipseek.mjs,
 * the built bundle), against a local gateway with the real orchestrator and
 * fake stages (test/helpers/fake-stages.ts: a 30 s "video", 3 clips; clip 1
 * shows a car, clip 2 says "budget"). The media stages are tested elsewhere;
 * here it is the CLI's contract: what it prints, what it submits, what it
 * reads back.
 */
let work: string;
let store: FolderStore;
let gateway: Gateway;
let video: string;
let common: string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clipseek-cli-'));
  const bucket = join(work, 'bucket');
  store = new FolderStore(bucket);
  // The fake stages never read it; the CLI uploads it like any file.
  video = join(work, 'my video.mp4');
  writeFileSync(video, randomBytes(4096));
  gateway = await startGateway({
    stackFile: join(ROOT, 'stack.yml'),
    root: ROOT,
    port: 0,
    storageUrl: pathToFileURL(bucket).href,
    scripts: fakeStageScripts(work),
    only: ['orchestrator', ...FUNCTION_STAGES],
    env: {
      ...process.env,
      LEASE_S: '2',
      STATE_FLUSH_MS: '30',
      MAX_CONCURRENT_INVOCATIONS: '2',
      // Slow enough that cancel and kill land while a request runs.
      FAKE_STAGE_DELAY_MS: '250',
    },
    cron: false,
    functionOutput: 'ignore',
    logger: createLogger({ name: 'cli-test', level: 'silent' }),
    restartBackoff: { baseMs: 20, maxMs: 200 },
    stopGraceMs: 2000,
  });
  common = ['--gateway', gateway.url, '--storage', pathToFileURL(bucket).href, '--data', join(work, 'data')];
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const clipseek = (...args: string[]) => runCli([...args, ...common]);

/** A video no other test analysed: on one already analysed nothing would run, nothing could be cut short. */
function ownVideo(name: string): string {
  const path = join(work, `${name}.mp4`);
  writeFileSync(path, randomBytes(4096));
  return path;
}

/** Every object in the bucket with its ETag. */
async function objects(): Promise<Record<string, string>> {
  const all: Record<string, string> = {};
  for await (const o of store.listAll('')) all[o.key] = o.etag;
  return all;
}

describe('clipseek run', () => {
  let jsonRun: { id: string; stdout: string };

  it('--json prints exactly final.json on stdout, a valid FinalResult, and progress on stderr', async () => {
    const id = `cli_json_${Date.now().toString(36)}`;
    const r = await clipseek('run', video, '--query', 'find the red car', '--id', id, '--json');
    expect(r.stderr).toContain('SUCCEEDED');
    expect(r.code, r.stderr).toBe(0);
    const stored = (await store.getBytes(requestKeys(id).final)).toString('utf8');
    expect(r.stdout.trim()).toBe(stored.trim());
    const final = FinalResult.parse(JSON.parse(r.stdout));
    expect(final.request_id).toBe(id);
    expect(final.status).toBe('SUCCEEDED');
    // The fixture's clip 1 is the one with a car.
    expect(final.matches.map((m) => m.clips)).toEqual([[1]]);
    // Progress went to stderr, one line per change, ending with the terminal status.
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.at(-2)).toMatch(/SUCCEEDED/);
    // The local file was uploaded to the store and submitted by key.
    const { state } = await readState(store, id);
    expect(state.request.video_uri).toMatch(/^store:\/\/uploads\/[0-9a-f]{16}\/my_video\.mp4$/);
    jsonRun = { id, stdout: r.stdout };
  });

  it('--id of an earlier request with another file or query is refused, uploading nothing; the same again is that request', async () => {
    const other = join(work, 'other video.mp4');
    writeFileSync(other, randomBytes(4096));
    const before = await objects();
    const r = await clipseek('run', other, '--query', 'find the red car', '--id', jsonRun.id, '--json');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('IDEMPOTENCY_KEY_MISMATCH');
    // With --json, the error body on stdout (issue 16; was nothing).
    expect(ErrorBody.parse(JSON.parse(r.stdout)).error.code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    const query = await clipseek('run', video, '--query', 'find the blue car', '--id', jsonRun.id, '--json');
    expect(query.code, query.stderr).toBe(1);
    expect(query.stderr).toContain('IDEMPOTENCY_KEY_MISMATCH');
    // Nothing uploaded, nothing written.
    expect(await objects()).toEqual(before);
    const same = await clipseek('run', video, '--query', 'find the red car', '--id', jsonRun.id, '--json');
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe(jsonRun.stdout);
  });

  it('prints the ranked matches and writes the HTML report', async () => {
    const r = await clipseek('run', video, '--query', 'what about the budget');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ SUCCEEDED .* 3 clips · 1 match for "what about the budget"/);
    expect(r.stdout).toMatch(/#1 {2}0:\d\d\.\d–0:\d\d\.\d {2}score 0\.50 {2}clip 2$/m);
    expect(r.stdout).toContain('heard  budget');
    // The folder store: the clip as a file the user can open, not its object key.
    const clip = /^ +clip +(\S+)$/m.exec(r.stdout)?.[1];
    expect(clip).toMatch(/results\/default\/transcode-clip\/[0-9a-f]{64}\/clip\.mp4$/);
    expect(existsSync(resolve(ROOT, clip!))).toBe(true);
    const reportPath = /report: (\S+)/.exec(r.stdout)?.[1];
    expect(reportPath).toBeDefined();
    const html = readFileSync(resolve(ROOT, reportPath!), 'utf8');
    expect(html.match(/<article class="match"/g)).toHaveLength(1);
    expect(html).toContain('<mark>budget</mark>');
  });

  it('refuses a bad command line with exit status 2 and says why', async () => {
    const noQuery = await clipseek('run', video);
    expect(noQuery.code).toBe(2);
    expect(noQuery.stderr).toContain('--query is required');
    const badProfile = await clipseek('run', video, '-q', 'cars', '--profile', 'turbo');
    expect(badProfile.code).toBe(2);
    expect(badProfile.stderr).toMatch(/profile/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('says so when no gateway answers', async () => {
    const r = await runCli([
      'run',
      video,
      '-q',
      'cars',
      '--gateway',
      'http://127.0.0.1:9',
      '--storage',
      pathToFileURL(join(work, 'other-bucket')).href,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GATEWAY_UNREACHABLE');
    expect(r.stderr).toContain('clipseek up');
  });

  it('status shows the stages, and status --json prints state.json as stored', async () => {
    const r = await clipseek('status', jsonRun.id);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`request   ${jsonRun.id}`);
    expect(r.stdout).toMatch(/status {4}SUCCEEDED/);
    for (const stage of ['transcode-clip', 'transcribe-clip', 'sample-frames', 'detect-objects']) {
      expect(r.stdout).toMatch(new RegExp(`${stage} +SUCCEEDED 3/3`));
    }
    expect(r.stdout).toContain('clips done: 3/3');
    const json = await clipseek('status', jsonRun.id, '--json');
    expect(json.code).toBe(0);
    expect(json.stdout).toBe((await store.getBytes(requestKeys(jsonRun.id).state)).toString('utf8'));
    expect(RequestState.parse(JSON.parse(json.stdout)).status).toBe('SUCCEEDED');
    const missing = await clipseek('status', 'no_such_request');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('REQUEST_NOT_FOUND');
  });

  it('ls lists every request, newest first, and "last" names the newest', async () => {
    const r = await clipseek('ls', '--json');
    expect(r.code, r.stderr).toBe(0);
    const page = JSON.parse(r.stdout) as {
      requests: Array<{ request_id: string; status: string; created_at: string; source: string }>;
      next_cursor: string | null;
    };
    expect(page.next_cursor).toBeNull();
    const rows = page.requests;
    const ids = rows.map((row) => row.request_id);
    expect(ids).toContain(jsonRun.id);
    expect(rows.map((row) => row.created_at)).toEqual(
      [...rows.map((row) => row.created_at)].sort().reverse(),
    );
    expect(rows.every((row) => row.status === 'SUCCEEDED')).toBe(true);
    const table = await clipseek('ls');
    expect(table.stdout.split('\n')[0]).toMatch(/^REQUEST +STATUS +CREATED +CLIPS +MATCHES +SOURCE +QUERY/);
    expect(table.stdout).toContain('find the red car');
    const last = await clipseek('status', 'last', '--json');
    expect(JSON.parse(last.stdout).request_id).toBe(ids[0]);
  });

  it('watch on a finished request prints its result at once', async () => {
    const r = await clipseek('watch', jsonRun.id, '--json', '--no-report');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(jsonRun.stdout));
  });
});

describe('clipseek cancel and resume', () => {
  it('run --async returns the id at once; cancel stops the request', async () => {
    const id = `cli_cancel_${Date.now().toString(36)}`;
    const submitted = await clipseek('run', ownVideo(id), '-q', 'cars', '--id', id, '--async');
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout.trim()).toBe(id);
    await until(async () => (await store.head(requestKeys(id).state)) !== undefined, 'the request to start');
    const r = await clipseek('cancel', id);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${id} CANCELLED`);
    const { state } = await readState(store, id);
    expect(state.status).toBe('CANCELLED');
    // Nothing new started after the cancel: not every clip task ran.
    const succeeded = Object.values(state.tasks).filter((t) => t.status === 'SUCCEEDED').length;
    expect(succeeded).toBeLessThan(Object.keys(state.tasks).length);
    // Cancelling it again changes nothing and says so.
    const again = await clipseek('cancel', id);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('had already finished: CANCELLED');
  });

  it('resume finishes a request whose orchestrator was killed, without redoing finished tasks', async () => {
    const id = `cli_resume_${Date.now().toString(36)}`;
    const submitted = await clipseek('run', ownVideo(id), '-q', 'find the red car', '--id', id, '--async');
    expect(submitted.code, submitted.stderr).toBe(0);
    const doneBefore = await until(async () => {
      const state = (await store.head(requestKeys(id).state))
        ? (await readState(store, id)).state
        : undefined;
      const done = state?.tasks['cut-clips']?.status === 'SUCCEEDED';
      return done && state;
    }, 'cut-clips to finish');
    process.kill(gateway.functions.get('orchestrator')!.pid!, 'SIGKILL');
    const finishedEarly = Object.entries(doneBefore.tasks)
      .filter(([, t]) => t.status === 'SUCCEEDED')
      .map(([key, t]) => [key, t.finished_at]);

    const r = await clipseek('resume', id, '--json', '--no-report');
    expect(r.code, r.stderr).toBe(0);
    const final = FinalResult.parse(JSON.parse(r.stdout));
    expect(final.status).toBe('SUCCEEDED');
    expect(final.matches.map((m) => m.clips)).toEqual([[1]]);
    const { state } = await readState(store, id);
    expect(state.runs).toBeGreaterThanOrEqual(2);
    // Tasks finished before the kill kept their first result.
    for (const [key, finishedAt] of finishedEarly) expect(state.tasks[key!]?.finished_at).toBe(finishedAt);
    // Too late to cancel a request that succeeded: exit status 1.
    const cancel = await clipseek('cancel', id);
    expect(cancel.code).toBe(1);
    expect(cancel.stdout).toContain('had already finished: SUCCEEDED');
    expect((await readState(store, id)).state.status).toBe('SUCCEEDED');
  });
});

describe('clipseek report', () => {
  it('refuses a request it does not know', async () => {
    const r = await clipseek('report', 'never_submitted');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('REQUEST_NOT_FOUND: no request never_submitted');
  });
});

it('an unknown option: the command says so and shows its usage, with exit status 2', async () => {
  const r = await clipseek('status', 'last', '--frobnicate');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^clipseek: unknown option --frobnicate\n\nusage: clipseek status /);
});

it('every verb has --help', async () => {
  const verbs = ['up', 'down', 'run', 'status', 'watch', 'ls', 'resume', 'cancel', 'report', 'sample'];
  const results = await Promise.all(verbs.map((verb) => runCli([verb, '--help'], { env: cleanEnv() })));
  results.forEach((r, i) => {
    expect(r.code, verbs[i]).toBe(0);
    expect(r.stdout, verbs[i]).toMatch(new RegExp(`^usage: clipseek ${verbs[i]}`));
  });
  const top = await runCli(['--help']);
  expect(top.code).toBe(0);
  expect(top.stdout).toContain('usage: clipseek <command>');
});
