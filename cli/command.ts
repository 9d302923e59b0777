import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { createStore } from '../common/storage/index.js';
import type { ObjectStore } from '../common/storage/types.js';
import { EXIT, UsageError } from './errors.js';
import { OrchestratorClient } from './orchestrator-client.js';
import { shownPath } from './paths.js';
import type { ShowKey } from './print.js';
import { resolveRequestId } from './requests.js';
import { COMMON_OPTIONS, type CommonFlags, resolveSettings, type Settings } from './settings.js';
import { type Style, styleFor } from './style.js';

/** Where a command reads and writes: injected so tests can run commands in-process. */
export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  name: string;
  /** One line for `clipseek --help`. */
  summary: string;
  /** The full `clipseek <verb> --help` text. */
  usage: string;
  /** Returns the exit code. */
  run(argv: string[], io: Io): Promise<number>;
  /** Whether this command line asks for JSON output (then errors are printed as the error body too). */
  wantsJson(argv: string[]): boolean;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs with the common options added; a parse failure is a UsageError in the command's own words. */
export function parse<O extends Options>(argv: string[], options: O) {
  const all = { ...COMMON_OPTIONS, ...options } as O & typeof COMMON_OPTIONS;
  try {
    return parseArgs({ args: argv, options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(parseProblem(argv, all) ?? (err instanceof Error ? err.message : String(err)));
  }
}

/**
 * What is wrong with a command line parseArgs refused, found from its tokens
 * (parseArgs' own text tells how to pass a positional starting with "-",
 * which is seldom what was meant).
 */
function parseProblem(argv: string[], options: Options): string | undefined {
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option) return `unknown option ${token.rawName}`;
    if (option.type === 'boolean' && token.value !== undefined) return `${token.rawName} takes no value`;
    if (option.type === 'string' && token.value === undefined) return `${token.rawName} needs a value`;
    if (option.type === 'string' && !token.inlineValue && token.value?.startsWith('-')) {
      return `${token.rawName} needs a value (for one that starts with "-", write --${token.name}=${token.value})`;
    }
  }
  return undefined;
}

type Parsed<O extends Options> = ReturnType<typeof parse<O>>;

/** A verb from its options and body: `--help` prints its usage and runs nothing else. */
export function defineCommand<O extends Options>(spec: {
  name: string;
  summary: string;
  usage: string;
  options: O;
  /** `argv` as given, for a verb that starts itself again (up --detach). */
  run(args: Parsed<O>, io: Io, argv: string[]): Promise<number>;
}): Command {
  const { options, run, ...about } = spec;
  return {
    ...about,
    wantsJson(argv) {
      if (!('json' in options)) return false;
      const { tokens } = parseArgs({
        args: argv,
        options: { ...COMMON_OPTIONS, ...options },
        allowPositionals: true,
        strict: false,
        tokens: true,
      });
      return tokens.some((t) => t.kind === 'option' && t.name === 'json');
    },
    async run(argv, io) {
      const args = parse(argv, options);
      if ((args.values as { help?: boolean }).help) {
        io.out.write(`${about.usage}\n`);
        return EXIT.OK;
      }
      return run(args, io, argv);
    },
  };
}

/** What most verbs need: settings, the store, the orchestrator client, output styling. */
export interface Context {
  io: Io;
  settings: Settings;
  store: ObjectStore;
  client: OrchestratorClient;
  /** Styling for stdout. */
  style: Style;
  /** How results name an object (a clip): a path for the folder store, else its key. */
  showKey: ShowKey;
}

export function makeContext(flags: CommonFlags, io: Io): Context {
  const settings = resolveSettings(flags, io.env, io.cwd);
  const store = createStore(settings.storageUrl, {
    env: io.env,
    secretsDir: join(settings.dataDir, 'secrets'),
  });
  return {
    io,
    settings,
    store,
    client: new OrchestratorClient(settings.gatewayUrl, settings.authorization),
    style: styleFor(io.out.isTTY === true, io.env),
    // store.url, not the setting: a plain path is a folder store too.
    showKey: keyShownAs(store.url, io.cwd),
  };
}

/** The folder store keeps each object as a file under its folder: show that path, which the user can open. */
export function keyShownAs(storageUrl: string, cwd: string): ShowKey {
  if (!storageUrl.startsWith('file:')) return (key) => key;
  const root = fileURLToPath(storageUrl);
  return (key) => shownPath(cwd, join(root, ...key.split('/')));
}

export function writeLines(stream: NodeJS.WritableStream, lines: string[]): void {
  if (lines.length) stream.write(`${lines.join('\n')}\n`);
}

/** Exactly one positional argument (a request id, a file). */
export function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? `missing ${what}` : `expected one ${what}, got ${positionals.length}`,
    );
  }
  return positionals[0]!;
}

/** For a verb that takes no positional argument. */
export function noPositionals(positionals: string[]): void {
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
}

/** The one request the command line names: an id, or "last". */
export function requestArg(ctx: Context, positionals: string[]): Promise<string> {
  return resolveRequestId(ctx.store, onePositional(positionals, 'request id'));
}
