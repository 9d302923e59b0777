import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { FfmpegError } from './errors.js';
import { restrictInputs } from './inputs.js';
import { type ProbeJson, parseProbeOutput } from './probe.js';
import { runTool } from './process.js';
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
}

/**
 * The only way the stages run ffmpeg. Every input file is opened with
 * `-protocol_whitelist file` and a demuxer allow-list (see inputs.ts).
 */
export interface FfmpegRunner {
  /** Runs ffmpeg with these arguments (inputs must be absolute paths); rejects with FfmpegError, TimeoutError or CancelledError. */
  run(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Runs ffprobe on one local file and returns its parsed JSON. */
  probe(file: string, options?: ProbeOptions): Promise<ProbeJson>;
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

export function createFfmpegRunner(options: FfmpegRunnerOptions = {}): FfmpegRunner {
  const env = parseConfig(FfmpegEnv, options.env ?? process.env);
  const ffmpegPath = options.ffmpegPath ?? env.FFMPEG_PATH;
  const ffprobePath = options.ffprobePath ?? env.FFPROBE_PATH;
  const defaultTimeoutMs = options.timeoutMs ?? env.FFMPEG_TIMEOUT_S * 1000;
  const tmpRoot = tempRoot(options);
  const logger = options.logger;
  const owner = options.tempDirOwner ?? currentTempDirOwner();

  return {
    async run(args, runOptions = {}) {
      const fullArgs = [...FFMPEG_PREFIX, ...restrictInputs(args)];
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
      });
      logger?.debug({ tool: 'ffmpeg', duration_ms: result.durationMs }, 'ffmpeg done');
      return result;
    },

    async probe(file, probeOptions = {}) {
      const args = [
        ...FFPROBE_PREFIX,
        ...(probeOptions.args ?? ['-show_format', '-show_streams']),
        ...restrictInputs(['-i', file]),
      ];
      let stdout = '';
      try {
        await runTool({
          tool: 'ffprobe',
          path: ffprobePath,
          args,
          signal: probeOptions.signal,
          timeoutMs: probeOptions.timeoutMs ?? defaultTimeoutMs,
          onStdout: (chunk) => {
            stdout += chunk;
          },
        });
      } catch (err) {
        throw err instanceof FfmpegError ? withProbeError(err, stdout) : err;
      }
      return parseProbeOutput(stdout);
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
