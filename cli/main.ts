/**
 * The `clipseek` command: one verb per job (run, status, watch, ls, resume,
 * cancel, report, search, videos) plus the local stack (up, down) and the demo's sample video.
 * Bundled into dist/cli.mjs; bin/clipseek.mjs runs it.
 */
import { pathToFileURL } from 'node:url';
import { ClipseekError, toClipseekError, toErrorBody } from '../common/errors.js';
import { type Command, type Io, writeLines } from './command.js';
import { cancelCommand } from './commands/cancel.js';
import { downCommand } from './commands/down.js';
import { lsCommand } from './commands/ls.js';
import { reportCommand } from './commands/report.js';
import { resumeCommand } from './commands/resume.js';
import { runCommand } from './commands/run.js';
import { sampleCommand } from './commands/sample.js';
import { searchCommand } from './commands/search.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { videosCommand } from './commands/videos.js';
import { watchCommand } from './commands/watch.js';
import { EXIT, UsageError } from './errors.js';
import { stderrTailLines } from './print.js';

export const COMMANDS: Command[] = [
  upCommand,
  downCommand,
  runCommand,
  statusCommand,
  watchCommand,
  lsCommand,
  resumeCommand,
  cancelCommand,
  reportCommand,
  searchCommand,
  videosCommand,
  sampleCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `clipseek — find the scenes in a video that answer a question

usage: clipseek <command> [options]     (clipseek <command> --help for its options)

${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

a first run:
  clipseek up --detach
  clipseek run video.mp4 --query "find the motorbike"
  clipseek down

<id> may be "last": the newest request.`;
}

/**
 * Runs one command line; returns the exit code. Errors are reported on
 * `io.err`, never thrown; when the command line asks for JSON, also as the
 * error body `{"error":{…}}` on stdout, with the same exit code.
 */
export async function main(argv: string[], io: Io, commands: Command[] = COMMANDS): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.out.write(`${help()}\n`);
    return verb === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = commands.find((c) => c.name === verb);
  try {
    if (!command) throw new UsageError(`unknown command "${verb}"`);
    return await command.run(rest, io);
  } catch (err) {
    if (command?.wantsJson(rest)) io.out.write(`${JSON.stringify(toErrorBody(err))}\n`);
    return report(err, io, command);
  }
}

function report(err: unknown, io: Io, command: Command | undefined): number {
  if (err instanceof UsageError) {
    io.err.write(`clipseek: ${err.message}\n\n${command ? command.usage : help()}\n`);
    return EXIT.USAGE;
  }
  const e = toClipseekError(err);
  writeLines(io.err, [`clipseek: ${e.code}: ${e.message}`, ...stderrTailLines(e.details)]);
  if (io.env.CLIPSEEK_DEBUG && !(err instanceof ClipseekError && err.cause === undefined)) {
    io.err.write(`${(err as Error).stack ?? String(err)}\n`);
  }
  return EXIT.FAILED;
}

/** The process entry (bin/clipseek.mjs calls it): runs argv, then ends even if a socket lingers. */
export async function cli(): Promise<void> {
  // `clipseek ls | head`: a reader that hangs up early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  // The AWS SDK's documented switch (aws/aws-sdk-js-v3#7983) for its 7-line
  // "versions after January 2027 require node >= 22" notice, which it prints on
  // every S3 command under Node 20; the pinned SDK runs on both. Inherited by
  // the functions `clipseek up` starts. An explicit setting is left alone.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const code = await main(process.argv.slice(2), {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exitCode = code;
  // Unref'd: fires only if something (a keep-alive socket) would keep the process up.
  setTimeout(() => process.exit(code), 1000).unref();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
