import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { SearchResult } from '../../common/contracts/video-index.js';
import { videoIndexKeys } from '../../common/keys.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { indexDocument, putIndexDocument } from '../helpers/video-index.js';

let dir: string;
let store: FolderStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'clipseek-cli-search-'));
  store = new FolderStore(join(dir, 'bucket'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `clipseek <argv>` in this process, on the test's bucket. */
async function clipseek(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  err.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const code = await main([...argv, '--storage', pathToFileURL(join(dir, 'bucket')).href], {
    out,
    err,
    env: { NO_COLOR: '1', ...env },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

const street = indexDocument({
  name: 'street.mp4',
  created_at: '2026-11-25T10:00:00.000Z',
  clips: [
    { start: 0, end: 10, labels: { car: 0.9 } },
    { start: 10, end: 20, labels: { car: 0.9, person: 0.8 } },
  ],
});
const talk = indexDocument({
  name: 'talk.mp4',
  created_at: '2026-11-26T10:00:00.000Z',
  clips: [{ start: 0, end: 75, words: ['the', 'budget', 'was', 'cut'], labels: { car: 0.5 } }],
});

describe('clipseek search', () => {
  it('prints the answers across videos, best first, each with its video', async () => {
    await putIndexDocument(store, street);
    await putIndexDocument(store, talk);
    const r = await clipseek(['search', 'a car', '--limit', '2']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('2 matches for "a car" in 2 analysed videos');
    expect(lines.filter((l) => /^ {2}#\d/.test(l))).toEqual([
      '  #1  street.mp4  0:00.0–0:20.0  score 0.90  clips 0–1',
      '  #2  talk.mp4  0:00.0–1:15.0  score 0.50  clip 0',
    ]);
  });

  it('--json prints the answer, a valid SearchResult; --video narrows it; a broken document is a warning', async () => {
    await putIndexDocument(store, street);
    await putIndexDocument(store, talk);
    const broken = videoIndexKeys('default').document('a'.repeat(64), 'b'.repeat(64));
    await store.put(broken, '{"schema_version": 1');
    const r = await clipseek(['search', 'the budget', '--json', '--video', 'talk.mp4']);
    expect(r.code).toBe(0);
    const result = SearchResult.parse(JSON.parse(r.stdout));
    expect(result.matches.map((m) => [m.video.name, m.why.words.map((w) => w.word)])).toEqual([
      ['talk.mp4', ['budget']],
    ]);
    expect(r.stderr).toBe(`clipseek: warning: skipped ${broken}: INDEX_DOCUMENT_CORRUPT — not JSON\n`);
  });

  it('searches the namespace of --namespace, else $CLIPSEEK_NAMESPACE, else "default"', async () => {
    await putIndexDocument(
      store,
      indexDocument({
        name: 'a.mp4',
        namespace: 'tenant-a',
        clips: [{ start: 0, end: 5, labels: { car: 1 } }],
      }),
    );
    const count = async (argv: string[], env?: NodeJS.ProcessEnv) =>
      SearchResult.parse(JSON.parse((await clipseek(['search', 'car', '--json', ...argv], env)).stdout))
        .videos;
    expect(await count([])).toBe(0);
    expect(await count(['--namespace', 'tenant-a'])).toBe(1);
    expect(await count([], { CLIPSEEK_NAMESPACE: 'tenant-a' })).toBe(1);
    expect((await clipseek(['search', 'car', '--namespace', '../x'])).code).toBe(2);
  });

  it('refuses a bad command line with exit status 2; an unknown video fails with VIDEO_NOT_FOUND', async () => {
    expect((await clipseek(['search'])).code).toBe(2);
    expect((await clipseek(['search', 'car', '--limit', '0'])).code).toBe(2);
    const r = await clipseek(['search', 'car', '--video', 'nope.mp4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^clipseek: VIDEO_NOT_FOUND: no analysed video "nope.mp4"/);
  });
});

describe('clipseek videos', () => {
  it('lists the analysed videos, newest first: name, duration, profile, when, clips, coverage, size', async () => {
    await putIndexDocument(store, street);
    await putIndexDocument(store, talk);
    const r = await clipseek(['videos']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'VIDEO       DURATION  PROFILE   ANALYSED             CLIPS  COVERAGE      SIZE  SHA256',
      `talk.mp4      1:15.0  default   2026-11-26 10:00:00      1     100 %   12.3 kB  ${talk.video.sha256.slice(0, 12)}`,
      `street.mp4    0:20.0  default   2026-11-25 10:00:00      2     100 %   12.3 kB  ${street.video.sha256.slice(0, 12)}`,
    ]);
    const rows = JSON.parse((await clipseek(['videos', '--json'])).stdout);
    expect(
      rows.map((v: { name: string; stored_bytes: number; analyses: number }) => [
        v.name,
        v.stored_bytes,
        v.analyses,
      ]),
    ).toEqual([
      ['talk.mp4', 12_345, 1],
      ['street.mp4', 12_345, 1],
    ]);
  });

  it('says so when nothing is analysed', async () => {
    const r = await clipseek(['videos']);
    expect(r).toMatchObject({ code: 0, stdout: 'nothing analysed yet: clipseek run <video> --query "…"\n' });
  });
});
