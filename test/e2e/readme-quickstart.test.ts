import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SAMPLE } from '../../cli/sample-video.js';
import { FinalResult } from '../../common/contracts/final.js';
import type { RequestState } from '../../common/contracts/state.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { freePort } from '../../gateway/free-port.js';
import { openPage } from '../helpers/chromium.js';
import { cleanEnv, ROOT } from '../helpers/cli.js';

const exec = promisify(execFile);

/**
 * The README's quick start, run as written from a temporary clone of the
 * repository, so the README cannot drift from the code: every fenced block
 * that follows a `<!-- quickstart … -->` comment runs in bash, in order, in
 * the clone (except `npm test`, which is what runs this); so does every
 * block after a `<!-- http-api … -->` comment (the HTTP API examples), with
 * their outputs checked. It uses the real stages. A clone holds only committed files: by default it clones HEAD;
 * CLIPSEEK_README_FROM=worktree copies the files a commit of everything would
 * hold instead (tracked and untracked, minus git-ignored), to check before
 * committing. node_modules is the repository's, linked in (no second npm ci).
 */
const FROM = process.env.CLIPSEEK_README_FROM === 'worktree' ? 'worktree' : 'head';
const ARTIFACTS = join(ROOT, 'test/.artifacts');
let clone: string;
let log = '';
let revision = '';

beforeAll(async () => {
  clone = join(await mkdtemp(join(tmpdir(), 'clipseek-readme-')), 'clipseek');
  if (FROM === 'head') {
    await exec('git', ['clone', '--quiet', ROOT, clone]);
  } else {
    copyWorktree(
      clone,
      (await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT }))
        .stdout,
    );
  }
  revision =
    FROM === 'head'
      ? (await exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })).stdout.trim()
      : 'work tree';
  for (const needed of ['README.md', 'bin/clipseek.mjs', 'scripts/demo.sh', 'cli/main.ts']) {
    if (!existsSync(join(clone, needed))) {
      throw new Error(
        `the ${revision} clone has no ${needed}: commit it first (or CLIPSEEK_README_FROM=worktree)`,
      );
    }
  }
  // setup.sh runs `npm ci` when node_modules does not match package-lock.json;
  // through this link that would reinstall the repository's own node_modules. Refuse instead.
  const stamp = readFileSync(join(ROOT, 'node_modules/.clipseek-lock.sha256'), 'utf8').trim();
  const lock = createHash('sha256')
    .update(readFileSync(join(clone, 'package-lock.json')))
    .digest('hex');
  if (stamp !== lock) {
    throw new Error(
      `package-lock.json of the ${revision} clone differs from the installed node_modules: commit the lock file or run scripts/setup.sh`,
    );
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  writeFileSync(join(ARTIFACTS, 'readme-quickstart.log'), log);
  if (!clone) return;
  // A stack left behind by a failed block must not outlive the test.
  await exec(process.execPath, ['bin/clipseek.mjs', 'down'], { cwd: clone, env: cleanEnv() }).catch(
    () => undefined,
  );
  await rm(dirname(clone), { recursive: true, force: true });
});

function copyWorktree(to: string, nulSeparated: string): void {
  for (const file of nulSeparated.split('\0').filter(Boolean)) {
    const from = join(ROOT, file);
    if (!existsSync(from) || !statSync(from).isFile()) continue; // deleted, not yet committed
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(from, join(to, file));
    chmodSync(join(to, file), statSync(from).mode);
  }
}

/** The fenced blocks after a `<!-- <marker>` comment, as shell scripts, without `npm test`. */
function markedBlocks(readme: string, marker: 'quickstart' | 'http-api'): string[] {
  const blocks: string[] = [];
  const pattern = new RegExp(
    `<!-- ${marker}[^>]*-->\\s*\\n\`\`\`(?:sh|bash|shell)\\n([\\s\\S]*?)\`\`\``,
    'g',
  );
  for (const match of readme.matchAll(pattern)) {
    const lines = match[1]!.split('\n').filter((line) => !/^\s*npm test\b/.test(line));
    blocks.push(lines.join('\n'));
  }
  return blocks;
}

async function bash(script: string, port = '0'): Promise<string> {
  // A free port (the README's default is 8080, which may be taken here): the commands stay as written.
  const env = cleanEnv({ CLIPSEEK_PORT: port });
  try {
    const { stdout, stderr } = await exec('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: clone,
      env,
      maxBuffer: 64 << 20,
      timeout: 240_000,
    });
    log += `$ ${script}\n${stdout}${stderr}\n`;
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    log += `$ ${script}\n${e.stdout ?? ''}${e.stderr ?? ''}\nFAILED\n`;
    throw new Error(
      `README block failed:\n${script}\n--- output ---\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(-6000),
      {
        cause: err,
      },
    );
  }
}

it('runs the quick start as written: the demo finds the motorbike and the weather, the walkthrough works', async () => {
  const blocks = markedBlocks(readFileSync(join(clone, 'README.md'), 'utf8'), 'quickstart');
  if (blocks.length < 2)
    throw new Error(`README.md of the ${revision} clone has no quickstart blocks: commit README.md`);
  expect(blocks[0]).toMatch(/^npm run demo\b/);

  const demo = await bash(blocks[0]!);
  expect(demo).toContain('1 match for "find the motorbike"');
  expect(demo).toContain('1 match for "what does it say about the weather"');
  // Search reads the video index the first question wrote.
  expect(demo).toMatch(/\d+ match(es)? for "sunny weather" in 1 analysed video\b/);
  expect(demo).toMatch(/report: \.clipseek\/reports\/\S+\.html/);
  expect(demo).toContain('stopped the stack');

  const walkthrough = await bash(blocks.slice(1).join('\n'));
  expect(walkthrough).toMatch(/^REQUEST +STATUS/m);
  expect(walkthrough).toContain('stopped the stack');
  expect(existsSync(join(clone, '.clipseek/up.json'))).toBe(false);

  // What the requests found, read from the clone's bucket: the motorbike while it is on screen, the word where it is said.
  const store = new FolderStore(join(clone, '.clipseek/bucket'));
  const finals: FinalResult[] = [];
  for await (const marker of store.listAll(indexKeys.requestsPrefix)) {
    const { value } = await store.getJson(requestKeys(indexKeys.idFromKey(marker.key)).final);
    finals.push(FinalResult.parse(value));
  }
  expect(finals).toHaveLength(3);
  const photo = SAMPLE.photo;
  const motorbike = finals.filter((f) => f.query === 'find the motorbike');
  expect(motorbike).toHaveLength(2);
  for (const f of motorbike) {
    expect(f.matches.length).toBeGreaterThanOrEqual(1);
    const seen = f.matches[0]!.why.labels.find((l) => l.label === 'motorcycle');
    expect(seen).toBeDefined();
    for (const [a, b] of seen!.ranges) expect(a < photo.toS && b > photo.fromS).toBe(true);
  }
  const weather = finals.find((f) => f.query.includes('weather'))!;
  // The second question was answered from the first one's analysis: every stage's task reused, none invoked.
  const { value: weatherState } = await store.getJson<RequestState>(requestKeys(weather.request_id).state);
  const functionTasks = Object.entries(weatherState.tasks).filter(([key]) => key !== 'copy-source');
  expect(functionTasks.length).toBeGreaterThan(0);
  expect(functionTasks.filter(([, task]) => !task.reused).map(([key]) => key)).toEqual([]);
  const said = SAMPLE.utterances.find((u) => u.text.includes('weather'))!;
  const heard = weather.matches[0]!.why.words.find((w) => w.word === 'weather');
  expect(heard).toBeDefined();
  expect(heard!.start).toBeGreaterThanOrEqual(said.atS - 0.5);
  expect(heard!.start).toBeLessThan(said.atS + 3);

  // The walkthrough's report opens in a browser: no errors, one card per match.
  const reportPath = /^(\/\S+\.html)$/m.exec(walkthrough)?.[1];
  expect(reportPath).toBeDefined();
  const latest = motorbike.find((f) => reportPath!.includes(f.request_id))!;
  const opened = await openPage(pathToFileURL(reportPath!).href);
  try {
    expect(await opened.page.locator('article.match').count()).toBe(latest.matches.length);
    await opened.page.screenshot({ path: join(ARTIFACTS, 'readme-report.png'), fullPage: true });
    expect(opened.errors).toEqual([]);
  } finally {
    await opened.close();
  }
}, 420_000);

it('runs the HTTP API examples as written: they find the motorbike, show the error shape, follow an async request', async () => {
  const readme = readFileSync(join(clone, 'README.md'), 'utf8');
  const blocks = markedBlocks(readme, 'http-api');
  if (blocks.length < 4) throw new Error(`README.md of the ${revision} clone has no http-api blocks`);
  // The examples' gateway is http://127.0.0.1:8080; here it is a free port, and only the port is changed.
  const port = String(await freePort());
  const end = '--- end of block ---';
  const script = blocks
    .map((block) => `${block.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)}\necho '${end}'`)
    .join('\n');
  const outputs = (await bash(script, port)).split(`${end}\n`);
  /** What the one block that contains `fragment` printed. */
  const outputOf = (fragment: string): string => {
    const at = blocks.flatMap((block, i) => (block.includes(fragment) ? [i] : []));
    expect(at, `http-api blocks with ${fragment}`).toHaveLength(1);
    return outputs[at[0]!]!;
  };

  const answer: unknown = JSON.parse(outputOf('"callback_url"'));
  expect(answer).toMatchObject({ status: 'SUCCEEDED', query: 'find the motorbike' });
  const submitted = FinalResult.parse(answer);
  const seen = submitted.matches[0]?.why.labels.find((l) => l.label === 'motorcycle');
  expect(seen).toBeDefined();

  // The error shape, exactly as the README shows it.
  const shown = /^\{"error":\{"code":"UNSUPPORTED_SOURCE_SCHEME".*$/m.exec(readme)?.[0];
  expect(shown).toBeDefined();
  expect(JSON.parse(outputOf('ftp://'))).toEqual(JSON.parse(shown!));

  // Accepted at once, then followed by status queries until it has finished.
  const lines = outputOf('/async-function/').trim().split('\n');
  expect(lines[0]).toBe('202');
  const last = /^(\{.*\}) (\d{3})$/.exec(lines.at(-1)!);
  expect(last?.[2]).toBe('200');
  expect(JSON.parse(last![1]!)).toMatchObject({
    request_id: 'weather-42',
    status: 'SUCCEEDED',
    final_key: requestKeys('weather-42').final,
  });
  expect(existsSync(join(clone, '.clipseek/up.json'))).toBe(false);
}, 300_000);
