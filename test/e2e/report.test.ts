import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinalResult } from '../../common/contracts/final.js';
import { RequestState } from '../../common/contracts/state.js';
import { requestKeys, resultKeys } from '../../common/keys.js';
import { resolveProfile } from '../../common/profiles.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { newRequestState } from '../../functions/orchestrator/request-state.js';
import { openPage } from '../helpers/chromium.js';
import { cleanEnv, ROOT, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);

/**
 * `clipseek report` renders a finished request into one self-contained page;
 * headless Chromium loads it from disk: no console errors, one card per
 * match with a playable clip, the timeline, the stage chart. The request is
 * written into a folder store by hand (real H.264 clips and JPEG thumbnails
 * made with ffmpeg), so the page is checked apart from the pipeline.
 */
const ID = 'r_report_test';
const ARTIFACTS = join(ROOT, 'test/.artifacts');
let work: string;
let store: FolderStore;
let final: FinalResult;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'clipseek-report-'));
  store = new FolderStore(join(work, 'bucket'));
  const keys = requestKeys(ID);
  // Where transcode-clip and sample-frames put a clip's outputs (any digest will do here).
  const output = (stage: 'transcode-clip' | 'sample-frames', clip: number, name: string) =>
    resultKeys('default', stage, String(clip).repeat(64)).file(name);
  const clips = [
    { clip: 0, start: 0.5, end: 4, colour: 'red', transcript: 'welcome to the show' },
    { clip: 1, start: 5, end: 9.5, colour: 'green', transcript: 'a red car drives by' },
    { clip: 2, start: 11, end: 15, colour: 'blue', transcript: 'the car and the budget <b>today</b>' },
  ];
  for (const c of clips) {
    const clipFile = join(work, `clip${c.clip}.mp4`);
    const thumbFile = join(work, `thumb${c.clip}.jpg`);
    await ffmpeg([
      ...['-f', 'lavfi', '-i', `testsrc2=s=320x180:r=25:d=${c.end - c.start}`],
      ...['-f', 'lavfi', '-i', `sine=f=440:d=${c.end - c.start}`],
      ...[
        '-vf',
        `drawbox=c=${c.colour}@0.5:t=fill`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p',
      ],
      ...['-c:a', 'aac', '-movflags', '+faststart', '-shortest', clipFile],
    ]);
    await ffmpeg(['-i', clipFile, '-frames:v', '1', '-q:v', '4', thumbFile]);
    await store.put(output('transcode-clip', c.clip, 'clip.mp4'), await readFile(clipFile));
    await store.put(output('sample-frames', c.clip, 'thumb.jpg'), await readFile(thumbFile));
  }
  const created = Date.parse('2026-01-01T10:00:00.000Z');
  const at = (ms: number) => new Date(created + ms).toISOString();
  const clipList = clips.map((c) => ({
    clip: c.clip,
    start: c.start,
    end: c.end,
    video_key: output('transcode-clip', c.clip, 'clip.mp4'),
    thumbnail_key: output('sample-frames', c.clip, 'thumb.jpg'),
    transcript: c.transcript,
    labels: c.clip === 1 ? ['car'] : [],
    failed: false,
  }));
  final = FinalResult.parse({
    schema_version: 1,
    request_id: ID,
    status: 'SUCCEEDED',
    query: 'find the <car>',
    understood: {
      labels: ['car'],
      objects: [{ words: 'car', labels: ['car'] }],
      terms: ['car'],
      phrases: [],
      speech_only: ['car'],
      suggestions: [],
      unknown: [],
    },
    answerable: true,
    matches: [
      {
        start: 5.5,
        end: 8,
        score: 0.9,
        found: ['car'],
        missing: [],
        clips: [1],
        why: {
          labels: [{ label: 'car', ranges: [[5.5, 8]], best_score: 0.83 }],
          words: [{ word: 'car', term: 'car', start: 6.1, end: 6.4 }],
        },
        transcript: 'a red car drives by',
        video_keys: [clipList[1]!.video_key],
        thumbnail_key: clipList[1]!.thumbnail_key,
      },
      {
        start: 10.9,
        end: 12.2,
        score: 0.4,
        found: ['car'],
        missing: [],
        clips: [2],
        why: { labels: [], words: [{ word: 'car', term: 'car', start: 11.4, end: 11.7 }] },
        transcript: 'the car and the budget <b>today</b>',
        video_keys: [clipList[2]!.video_key],
        thumbnail_key: clipList[2]!.thumbnail_key,
      },
    ],
    coverage: {
      duration_s: 16,
      analysed_s: 12,
      ratio: 0.75,
      unanalysed: [
        [0, 0.5],
        [4, 5],
        [9.5, 11],
        [15, 16],
      ],
    },
    clips: 3,
    clip_list: clipList,
    failed_clips: [],
    source: { key: keys.input('source.mp4'), duration_s: 16 },
    metrics: {
      wall_ms: 9000,
      stages: {
        'extract-audio': { tasks: 1, total_ms: 400, max_ms: 400 },
        'transcode-clip': { tasks: 3, total_ms: 3000, max_ms: 1200 },
      },
    },
    error: null,
  });
  const accepted = newRequestState({
    id: ID,
    namespace: 'default',
    profile: 'default',
    params: resolveProfile('default'),
    request: { video_uri: 'store://uploads/x/source.mp4', query: final.query },
    owner: 'test',
    at: new Date(created),
    ttlMs: 86_400_000,
    leaseMs: 60_000,
  });
  const state = RequestState.parse({
    ...accepted,
    status: 'SUCCEEDED',
    updated_at: at(9000),
    lease: null,
    runs: 1,
    clips: 3,
    tasks: {
      'extract-audio': { status: 'SUCCEEDED', attempts: 1, started_at: at(100), finished_at: at(500) },
      ...Object.fromEntries(
        clips.map((c) => [
          `transcode-clip/000${c.clip}`,
          {
            status: 'SUCCEEDED',
            attempts: 1,
            started_at: at(600 + c.clip * 900),
            finished_at: at(1600 + c.clip * 900),
          },
        ]),
      ),
    },
  });
  await store.put(keys.final, JSON.stringify(final, null, 2));
  await store.put(keys.state, JSON.stringify(state, null, 2));
  await mkdir(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function ffmpeg(args: string[]): Promise<void> {
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

describe('clipseek report', () => {
  let html: string;
  let path: string;

  it('writes one self-contained file', async () => {
    path = join(work, 'out', 'report.html');
    const r = await runCli(
      ['report', ID, '-o', path, '--storage', pathToFileURL(join(work, 'bucket')).href, '--data', work],
      { env: cleanEnv() },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(path);
    html = await readFile(path, 'utf8');
    // Media are embedded, nothing points outside the file.
    expect(html).not.toMatch(/(src|href|poster)="(https?|file):/);
    expect(html.match(/src="data:video\/mp4;base64,/g)).toHaveLength(2);
    expect(html).toMatch(/poster="data:image\/jpeg;base64,/);
    // The query is text, never markup.
    expect(html).toContain('find the &lt;car&gt;');
    expect(html).not.toContain('<b>today</b>');
  });

  it('loads in Chromium with no errors, one card per match, playable clips', async () => {
    const opened = await openPage(pathToFileURL(path).href);
    try {
      const { page, errors } = opened;
      await page.locator('video').first().waitFor();
      // Chromium decodes the embedded H.264 clips: their metadata loads, with no media error.
      await page.waitForFunction(
        '[...document.querySelectorAll("video")].every((v) => v.readyState >= 1)',
        null,
        {
          timeout: 15_000,
        },
      );
      expect(
        await page.evaluate('[...document.querySelectorAll("video")].map((v) => v.error && v.error.code)'),
      ).toEqual([null, null]);
      expect(await page.locator('article.match').count()).toBe(final.matches.length);
      expect(await page.locator('#match-count').textContent()).toBe('2 matches');
      expect(await page.locator('article.match h2').first().textContent()).toContain('#1 · 0:05.5–0:08.0');
      expect(await page.locator('article.match h2').first().textContent()).toContain('clip 1');
      // Matched labels and words are highlighted.
      expect(await page.locator('#match-1 mark').allTextContents()).toEqual(['car', 'car', 'car']);
      // Timeline: every clip, those with an answer marked, the answers, what was not analysed.
      expect(await page.locator('.timeline .seg').count()).toBe(3);
      expect(await page.locator('.timeline .seg.hit').count()).toBe(2);
      expect(await page.locator('.timeline .answer').count()).toBe(2);
      expect(await page.locator('.timeline .gap').count()).toBe(4);
      expect(await page.getByText('not analysed: 0:00.0–0:00.5').count()).toBe(1);
      expect(await page.locator('.gantt .row').count()).toBe(2);
      expect(await page.locator('table tbody tr').count()).toBe(3);
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await opened.close();
    }
  }, 60_000);
});
