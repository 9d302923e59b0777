import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseConfig } from '../config.js';
import { ClipseekError } from '../errors.js';
import type { Logger } from '../logger.js';
import { FfmpegError } from './errors.js';
import { type InputLimits, restrictInputs } from './inputs.js';
import { frameTooLarge, limitsExceeded, MAX_FRAME_PIXELS } from './limits.js';
import { type ProbeJson, parseProbeOutput } from './probe.js';
import { runTool, type ToolResult } from './process.js';
import { createProgressParser, type FfmpegProgress } from './progress.js';
import { currentTempDirOwner, removeDeadTempDirs, type TempDirOwner, tempDirPrefix } from './temp-dirs.js';

export type { ProbeJson } from './probe.js';
export type { FfmpegProgress } from './progress.js';

export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the runner's default timeout for this call. */
  timeoutMs?: number | undefined;
  cwd?: string | undefined;
  onProgress?: ((progress: FfmpegProgress) => void) | undefined;
}

export interface RunResult {
  /** The end of what ffmpeg wrote to stderr (warnings, with `-loglevel error` usually empty). */
  stderrTail: string;
  durationMs: number;
}

export interface ProbeOptions {
  /** What to show; default `-show_format -show_streams`. Output is always JSON with `-show_error`. */
  args?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** Refuse the file (MEDIA_LIMITS_EXCEEDED) when ffprobe prints more; default PROBE_OUTPUT_MAX_CHARS. */
  maxOutputChars?: number | undefined;
}

export interface ProbeLinesOptions {
  /** What to show, e.g. `-select_streams 0 -show_entries packet=pts_time`. */
  args: readonly string[];
  /** Gets each line as it arrives; throwing stops ffprobe, and the call rejects with that error. */
  onLine: (line: string) => void;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/**
 * ffprobe's JSON for one file (format and streams) stays far below this: a
 * file with ffmpeg's maximum of 1000 streams prints about 2 MB. More means
 * metadata nobody needs, held in memory whole to be parsed.
 */
export const PROBE_OUTPUT_MAX_CHARS = 8 * 1024 * 1024;
/** One line of compact output (one packet, one frame) is well under 1 KB. */
const PROBE_LINE_MAX_CHARS = 64 * 1024;

/**
 * The only way the stages run ffmpeg. Every input file is opened with
 * `-protocol_whitelist file` and a demuxer allow-list, and decoded with a
 * frame size limit (see inputs.ts). A frame over that limit fails the call
 * with MEDIA_LIMITS_EXCEEDED, even when ffmpeg went on without it.
 */
export interface FfmpegRunner {
  /**
   * Runs ffmpeg with these arguments (inputs must be absolute paths); rejects with FfmpegError,
   * TimeoutError, CancelledError or InputError MEDIA_LIMITS_EXCEEDED.
   */
  run(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Runs ffprobe on one local file and returns its parsed JSON (at most maxOutputChars of it). */
  probe(file: string, options?: ProbeOptions): Promise<ProbeJson>;
  /**
   * Runs ffprobe on one local file with compact output (`key=value|…`, one
   * line per item) and hands it over line by line as it arrives: for
   * listings too long to hold (one line per packet).
   */
  probeLines(file: string, options: ProbeLinesOptions): Promise<void>;
  /** A private temp dir for one call, removed afterwards; if the process dies first, by the next startFfmpegRunner. */
  withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T>;
}

/** What a stage that runs ffmpeg gets besides the StageContext. */
export interface FfmpegDeps {
  ffmpeg: FfmpegRunner;
}

const FfmpegEnv = z.object({
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  FFPROBE_PATH: z.string().min(1).default('ffprobe'),
  /** Safety net per ffmpeg call; a stage's own deadline arrives as its AbortSignal. */
  FFMPEG_TIMEOUT_S: z.coerce.number().positive().max(86_400).default(1800),
  /** Where per-call temp dirs go; default the OS temp dir. */
  FFMPEG_TMP_DIR: z.string().min(1).optional(),
});

export interface FfmpegRunnerOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Read for FFMPEG_PATH, FFPROBE_PATH, FFMPEG_TIMEOUT_S, FFMPEG_TMP_DIR. Default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Default timeout per call; overrides FFMPEG_TIMEOUT_S. */
  timeoutMs?: number;
  tmpDir?: string;
  /** The largest frame a decoder may produce (see inputs.ts); default MAX_FRAME_PIXELS (8K). */
  maxPixels?: number;
  /** Whose temp dirs this runner makes (see temp-dirs.ts); default this process. */
  tempDirOwner?: TempDirOwner;
}

// Quiet and machine-readable: progress as key=value on stdout, only errors on stderr,
// never a prompt (-nostdin; -y because outputs live in a private temp dir).
const FFMPEG_PREFIX = [
  '-hide_banner',
  '-nostdin',
  '-nostats',
  '-loglevel',
  'error',
  '-progress',
  'pipe:1',
  '-y',
];
const FFPROBE_PREFIX = ['-hide_banner', '-v', 'error', '-of', 'json', '-show_error'];
const FFPROBE_LINES_PREFIX = ['-hide_banner', '-v', 'error', '-of', 'compact=p=0'];

export function createFfmpegRunner(options: FfmpegRunnerOptions = {}): FfmpegRunner {
  const env = parseConfig(FfmpegEnv, options.env ?? process.env);
  const ffmpegPath = options.ffmpegPath ?? env.FFMPEG_PATH;
  const ffprobePath = options.ffprobePath ?? env.FFPROBE_PATH;
  const defaultTimeoutMs = options.timeoutMs ?? env.FFMPEG_TIMEOUT_S * 1000;
  const tmpRoot = tempRoot(options);
  const logger = options.logger;
  const inputLimits: InputLimits = { maxPixels: options.maxPixels ?? MAX_FRAME_PIXELS };

  /**
   * Runs ffprobe; `consume` gets stdout as it arrives and may throw to stop
   * it: the call then rejects with that error, once ffprobe is gone.
   */
  async function runProbe(
    args: readonly string[],
    call: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
    consume: (chunk: string) => void,
  ): Promise<ToolResult> {
    const stop = new AbortController();
    let stoppedBy: { error: unknown } | undefined;
    const signal = call.signal ? AbortSignal.any([call.signal, stop.signal]) : stop.signal;
    const result = await runTool({
      tool: 'ffprobe',
      path: ffprobePath,
      args,
      signal,
      timeoutMs: call.timeoutMs ?? defaultTimeoutMs,
      onStdout: (chunk) => {
        if (stoppedBy) return;
        try {
          consume(chunk);
        } catch (error) {
          stoppedBy = { error };
          stop.abort();
        }
      },
    }).catch((err: unknown) => {
      throw stoppedBy ? stoppedBy.error : frameTooLargeOr(err);
    });
    if (stoppedBy) throw stoppedBy.error;
    throwIfFrameRefused(result);
    return result;
  }

  const owner = options.tempDirOwner ?? currentTempDirOwner();

  return {
    async run(args, runOptions = {}) {
      const fullArgs = [...FFMPEG_PREFIX, ...restrictInputs(args, inputLimits)];
      const onProgress = runOptions.onProgress;
      logger?.debug({ tool: 'ffmpeg', args: fullArgs }, 'ffmpeg start');
      const result = await runTool({
        tool: 'ffmpeg',
        path: ffmpegPath,
        args: fullArgs,
        signal: runOptions.signal,
        timeoutMs: runOptions.timeoutMs ?? defaultTimeoutMs,
        cwd: runOptions.cwd,
        onStdout: onProgress ? createProgressParser(onProgress) : undefined,
      }).catch((err: unknown) => {
        throw frameTooLargeOr(err);
      });
      logger?.debug({ tool: 'ffmpeg', duration_ms: result.durationMs }, 'ffmpeg done');
      throwIfFrameRefused(result);
      return result;
    },

    async probe(file, probeOptions = {}) {
      const args = [
        ...FFPROBE_PREFIX,
        ...(probeOptions.args ?? ['-show_format', '-show_streams']),
        ...restrictInputs(['-i', file], inputLimits),
      ];
      const maxChars = probeOptions.maxOutputChars ?? PROBE_OUTPUT_MAX_CHARS;
      let stdout = '';
      try {
        await runProbe(args, probeOptions, (chunk) => {
          stdout += chunk;
          if (stdout.length > maxChars) {
            throw limitsExceeded('ffprobe describes the file at more length than this service reads', {
              max_output_chars: maxChars,
            });
          }
        });
      } catch (err) {
        throw err instanceof FfmpegError ? withProbeError(err, stdout) : err;
      }
      return parseProbeOutput(stdout);
    },

    async probeLines(file, { args, onLine, ...call }) {
      let partial = '';
      await runProbe(
        [...FFPROBE_LINES_PREFIX, ...args, ...restrictInputs(['-i', file], inputLimits)],
        call,
        (chunk) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          if (partial.length > PROBE_LINE_MAX_CHARS) throw lineTooLong(partial);
          for (const line of lines) onLine(line);
        },
      );
      if (partial !== '') onLine(partial);
    },

    async withTempDir(fn) {
      const dir = await mkdtemp(join(tmpRoot, tempDirPrefix(owner)));
      try {
        return await fn(dir);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A frame refused by `-max_pixels` is the reason a run failed, whatever else went wrong after. */
function frameTooLargeOr(err: unknown): unknown {
  return err instanceof FfmpegError ? (frameTooLarge(err.stderrTail, err) ?? err) : err;
}

/** A refused frame was skipped: the run succeeded without it, on media over the limits. */
function throwIfFrameRefused(result: ToolResult): void {
  const refused = frameTooLarge(result.stderrTail);
  if (refused) throw refused;
}

function lineTooLong(partial: string): ClipseekError {
  return new ClipseekError(
    'FFPROBE_BAD_OUTPUT',
    `ffprobe printed a line over ${PROBE_LINE_MAX_CHARS} characters`,
    {
      status: 500,
      details: { head: partial.slice(0, 200) },
    },
  );
}

/**
 * The runner of a function process, made once when it starts: first removes
 * the temp dirs that dead processes left in its temp folder (a crash or
 * SIGKILL skips withTempDir's cleanup).
 */
export async function startFfmpegRunner(options: FfmpegRunnerOptions = {}): Promise<FfmpegRunner> {
  const self = options.tempDirOwner ?? currentTempDirOwner();
  await removeDeadTempDirs({ root: tempRoot(options), self, logger: options.logger });
  return createFfmpegRunner({ ...options, tempDirOwner: self });
}

function tempRoot(options: FfmpegRunnerOptions): string {
  return options.tmpDir ?? parseConfig(FfmpegEnv, options.env ?? process.env).FFMPEG_TMP_DIR ?? tmpdir();
}

/** A failed ffprobe still prints `{"error":{code,string}}`: keep it, it says why. */
function withProbeError(err: FfmpegError, stdout: string): FfmpegError {
  let probeError: ProbeJson['error'];
  try {
    probeError = parseProbeOutput(stdout).error;
  } catch {
    return err;
  }
  if (!probeError) return err;
  return new FfmpegError(err.message, {
    tool: 'ffprobe',
    exitCode: err.exitCode,
    signal: err.exitSignal,
    stderrTail: err.stderrTail,
    probeError: { code: probeError.code, string: probeError.string },
    cause: err.cause,
  });
}
