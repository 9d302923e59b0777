import { describe, expect, it } from 'vitest';
import { keyShownAs } from '../../cli/command.js';
import { resultLines, statusLines } from '../../cli/print.js';
import { styleFor } from '../../cli/style.js';
import type { FinalResult, Match } from '../../common/contracts/final.js';
import { FfmpegError } from '../../common/ffmpeg/errors.js';
import { makeState } from '../helpers/state.js';

const plain = styleFor(false, {});
const CLIP_KEY = 'requests/r_test0001/transcode-clip/0001/clip.mp4';

/** What ffmpeg wrote before it gave up: progress lines end with \r, the last lines say why. */
const STDERR = [
  'ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers',
  '  configuration: --prefix=/usr --extra-version=0+deb12u1',
  'Input #0, mov,mp4,m4a,3gp,3g2,mj2, from /tmp/in.mp4:',
  '  Duration: 00:00:30.00, start: 0.000000, bitrate: 1 kb/s',
  'frame=   10 fps=0.0 q=-1.0 size=       0kB time=00:00:00.40\rframe=   20 fps=0.0 q=-1.0 size=       0kB time=00:00:00.80\r',
  '[h264 @ 0x55d0c0a0] Invalid NAL unit size (1234 > 567).',
  '[h264 @ 0x55d0c0a0] Error splitting the input into NAL units.',
  'Error while decoding stream #0:0: Invalid data found when processing input',
  '',
].join('\n');

const ffmpegError = new FfmpegError('ffmpeg exited with code 1', {
  tool: 'ffmpeg',
  exitCode: 1,
  signal: null,
  stderrTail: STDERR,
});
const info = { code: ffmpegError.code, message: ffmpegError.message, details: ffmpegError.details };
/** The last five lines, as the human output shows them. */
const shownTail = [
  '    | frame=   10 fps=0.0 q=-1.0 size=       0kB time=00:00:00.40',
  '    | frame=   20 fps=0.0 q=-1.0 size=       0kB time=00:00:00.80',
  '    | [h264 @ 0x55d0c0a0] Invalid NAL unit size (1234 > 567).',
  '    | [h264 @ 0x55d0c0a0] Error splitting the input into NAL units.',
  '    | Error while decoding stream #0:0: Invalid data found when processing input',
];

function match(): Match {
  return {
    start: 10,
    end: 12,
    score: 0.5,
    found: ['car'],
    missing: [],
    clips: [1],
    why: { labels: [{ label: 'car', ranges: [[10, 12]], best_score: 0.5 }], words: [] },
    transcript: '',
    video_keys: [CLIP_KEY],
  };
}

function final(overrides: Partial<FinalResult> = {}): FinalResult {
  return {
    schema_version: 1,
    request_id: 'r_test0001',
    status: 'SUCCEEDED',
    query: 'find cars',
    understood: {
      labels: ['car'],
      objects: [{ words: 'cars', labels: ['car'] }],
      terms: [],
      phrases: [],
      speech_only: [],
      suggestions: [],
      unknown: [],
    },
    answerable: true,
    matches: [match()],
    clips: 3,
    clip_list: [],
    failed_clips: [],
    metrics: { wall_ms: 1000, stages: {} },
    error: null,
    ...overrides,
  };
}

describe("an ffmpeg failure's stderr_tail in the human output", () => {
  it('under a failed clip of the result', () => {
    const lines = resultLines(final({ failed_clips: [{ clip: 2, error: info }] }), undefined, plain);
    const at = lines.indexOf('  clip 2 failed: FFMPEG_FAILED — ffmpeg exited with code 1');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 6)).toEqual(shownTail);
  });

  it("under the request's error and a failed task in status", () => {
    const state = {
      ...makeState(),
      status: 'FAILED' as const,
      error: info,
      tasks: { 'extract-audio': { status: 'FAILED' as const, attempts: 1, error: info } },
    };
    const lines = statusLines(state, new Date(), plain);
    const error = lines.indexOf('error     FFMPEG_FAILED: ffmpeg exited with code 1');
    expect(lines.slice(error + 1, error + 6)).toEqual(shownTail);
    const task = lines.indexOf(
      '  extract-audio failed after 1 attempt(s): FFMPEG_FAILED — ffmpeg exited with code 1',
    );
    expect(lines.slice(task + 1, task + 6)).toEqual(shownTail);
  });

  it('nothing more for an error without one', () => {
    const lines = resultLines(
      final({ failed_clips: [{ clip: 2, error: { code: 'STAGE_TIMEOUT', message: 'too slow' } }] }),
      undefined,
      plain,
    );
    expect(lines.at(-1)).toBe('  clip 2 failed: STAGE_TIMEOUT — too slow');
  });
});

describe('results name a clip so the user can open it', () => {
  it('the folder store: its file, relative to the current folder when below it', () => {
    const lines = resultLines(
      final(),
      undefined,
      plain,
      keyShownAs('file:///home/me/proj/.clipseek/bucket', '/home/me/proj'),
    );
    expect(lines).toContain(`      clip   .clipseek/bucket/${CLIP_KEY}`);
    const elsewhere = resultLines(
      final(),
      undefined,
      plain,
      keyShownAs('file:///srv/bucket', '/home/me/proj'),
    );
    expect(elsewhere).toContain(`      clip   /srv/bucket/${CLIP_KEY}`);
  });

  it('S3: the key', () => {
    const lines = resultLines(
      final(),
      undefined,
      plain,
      keyShownAs('s3://my-bucket?region=eu-west-1', '/home/me'),
    );
    expect(lines).toContain(`      clip   ${CLIP_KEY}`);
  });
});
