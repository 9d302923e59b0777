/** The ffmpeg runner against the real binaries: progress, failures, timeouts, cancellation, input restrictions. */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, TimeoutError } from '../../common/errors.js';
import { FfmpegError } from '../../common/ffmpeg/errors.js';
import { createFfmpegRunner, type FfmpegProgress, type FfmpegRunner } from '../../common/ffmpeg/runner.js';
import { concatList, hlsPlaylist, transportStreamSegment } from '../helpers/media.js';
import { isRunning } from '../helpers/processes.js';

const exec = promisify(execFile);
const NULL_OUTPUT = ['-f', 'null', '-'];

/** The container an unrestricted ffprobe takes `path` for: the control for the refusals below. */
async function openedAs(path: string): Promise<string> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=format_name',
    '-of',
    'csv=p=0',
    path,
  ]);
  return stdout.trim();
}

let dir: string;
let ffmpeg: FfmpegRunner;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-runner-test-'));
  ffmpeg = createFfmpegRunner({ env: {}, tmpDir: dir });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
}

describe('run', () => {
  it('reports progress parsed from -progress and resolves on success', async () => {
    const reports: FfmpegProgress[] = [];
    const result = await ffmpeg.run(['-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=25:d=3', ...NULL_OUTPUT], {
      onProgress: (p) => reports.push(p),
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(reports.length).toBeGreaterThan(0);
    const last = reports[reports.length - 1]!;
    expect(last.done).toBe(true);
    expect(last.outTimeS).toBeCloseTo(3, 1);
  });

  it('rejects with FfmpegError (exit code, stderr tail) when ffmpeg fails', async () => {
    const err = await failure(
      ffmpeg.run(['-f', 'lavfi', '-i', 'testsrc2=d=1', '-vf', 'no_such_filter', ...NULL_OUTPUT]),
    );
    expect(err).toBeInstanceOf(FfmpegError);
    const e = err as FfmpegError;
    expect(e).toMatchObject({ code: 'FFMPEG_FAILED', retryable: false, tool: 'ffmpeg' });
    expect(e.exitCode).not.toBe(0);
    expect(e.stderrTail).toContain('no_such_filter');
    expect(e.details.stderr_tail).toBe(e.stderrTail);
  });

  it('kills ffmpeg on timeout: TimeoutError FFMPEG_TIMEOUT, retryable', async () => {
    const started = Date.now();
    const err = await failure(
      ffmpeg.run(['-re', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=25', ...NULL_OUTPUT], { timeoutMs: 300 }),
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'FFMPEG_TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('kills the whole process group on timeout, not just the direct child', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const fakeFfmpeg = join(dir, 'fake-ffmpeg.sh');
    // A stand-in for ffmpeg that starts a child of its own and waits.
    await writeFile(fakeFfmpeg, `#!/bin/sh\nsleep 60 &\necho $! > '${pidFile}'\nwait\n`);
    await chmod(fakeFfmpeg, 0o755);
    const runner = createFfmpegRunner({ env: {}, ffmpegPath: fakeFfmpeg, tmpDir: dir });
    const err = await failure(runner.run([], { timeoutMs: 500 }));
    expect(err).toBeInstanceOf(TimeoutError);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(await isRunning(pid)).toBe(false);
  });

  it('an abort signal kills ffmpeg: CancelledError', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const err = await failure(
      ffmpeg.run(['-re', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=25', ...NULL_OUTPUT], {
        signal: controller.signal,
      }),
    );
    expect(err).toBeInstanceOf(CancelledError);
    expect(err).toMatchObject({ code: 'CANCELLED', retryable: false });
  });

  it('does not start at all when the signal is already aborted', async () => {
    const marker = join(dir, 'should-not-exist.wav');
    const err = await failure(
      ffmpeg.run(['-f', 'lavfi', '-i', 'anullsrc', '-t', '0.1', marker], { signal: AbortSignal.abort() }),
    );
    expect(err).toBeInstanceOf(CancelledError);
    await expect(stat(marker)).rejects.toThrow();
  });

  it('reports a missing binary as FFMPEG_UNAVAILABLE', async () => {
    const runner = createFfmpegRunner({ env: {}, ffmpegPath: join(dir, 'no-such-ffmpeg') });
    const err = await failure(runner.run(['-version']));
    expect(err).toMatchObject({ code: 'FFMPEG_UNAVAILABLE', retryable: false });
  });

  it('refuses inputs that are not absolute local paths', async () => {
    const err = await failure(ffmpeg.run(['-i', 'http://127.0.0.1:9/video.mp4', ...NULL_OUTPUT]));
    expect(err).toMatchObject({ code: 'INTERNAL', retryable: false });
  });
});

describe('withTempDir', () => {
  it('removes the directory afterwards, also when the work throws', async () => {
    let kept = '';
    const result = await ffmpeg.withTempDir(async (d) => {
      kept = d;
      await writeFile(join(d, 'file'), 'x');
      return 42;
    });
    expect(result).toBe(42);
    await expect(stat(kept)).rejects.toThrow();

    const err = await failure(
      ffmpeg.withTempDir(async (d) => {
        kept = d;
        throw new Error('boom');
      }),
    );
    expect((err as Error).message).toBe('boom');
    await expect(stat(kept)).rejects.toThrow();
  });
});

describe('input restrictions: playlists cannot make ffmpeg read other files', () => {
  let segment: string;
  beforeAll(async () => {
    await mkdir(join(dir, 'media'), { recursive: true });
    segment = await transportStreamSegment(join(dir, 'media'));
  });

  it('an HLS playlist pointing at a real local video is refused by ffprobe and ffmpeg', async () => {
    const playlist = await hlsPlaylist(join(dir, 'media'), segment);
    // Control: an unrestricted ffprobe follows the playlist and finds the segment's video.
    expect(await openedAs(playlist)).toBe('hls');

    const probeErr = await failure(ffmpeg.probe(playlist));
    expect(probeErr).toBeInstanceOf(FfmpegError);
    expect(probeErr).toMatchObject({ tool: 'ffprobe', retryable: false });
    expect((probeErr as FfmpegError).probeError?.code).toBeLessThan(0);

    const out = join(dir, 'out.wav');
    await expect(ffmpeg.run(['-i', playlist, out])).rejects.toBeInstanceOf(FfmpegError);
    await expect(stat(out)).rejects.toThrow();
  });

  it('an HLS playlist pointing at file:///etc/passwd is refused without reading it', async () => {
    const playlist = await hlsPlaylist(join(dir, 'media'), 'file:///etc/passwd', 'passwd.m3u8');
    const err = (await failure(ffmpeg.probe(playlist))) as FfmpegError;
    expect(err).toBeInstanceOf(FfmpegError);
    expect(err.stderrTail).not.toContain('root:');
  });

  it('a concat list pointing at a local file is refused', async () => {
    const list = await concatList(join(dir, 'media'), 'segment.ts', 'list.ffconcat');
    // Control: unrestricted, the concat demuxer opens the segment.
    expect(await openedAs(list)).toBe('concat');

    await expect(ffmpeg.probe(list)).rejects.toBeInstanceOf(FfmpegError);
  });

  it('plain media files still open', async () => {
    const probe = await ffmpeg.probe(segment);
    expect(probe.format?.format_name).toBe('mpegts');
    expect(probe.streams?.[0]?.codec_name).toBe('h264');
  });
});
