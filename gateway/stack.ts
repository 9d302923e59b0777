/**
 * Reads stack.yml the way faas-cli does (environment substitution, then YAML)
 * and turns each function entry into what the local gateway needs to run it:
 * the script, its environment, timeouts, concurrency and schedule.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseConfig } from '../common/config.js';
import { ClipseekError } from '../common/errors.js';
import { parseDuration } from '../common/openfaas/duration.js';
import { substituteEnv } from './envsubst.js';

const Scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const StringMap = z.record(z.string(), Scalar).default({});
const Resources = z.object({ memory: z.string().optional(), cpu: z.string().optional() }).optional();

const FunctionEntry = z.looseObject({
  lang: z.string().optional(),
  handler: z.string().optional(),
  image: z.string().optional(),
  environment: StringMap,
  secrets: z.array(z.string()).default([]),
  labels: StringMap,
  annotations: StringMap,
  limits: Resources,
  requests: Resources,
  build_args: StringMap,
});
export type FunctionEntry = z.infer<typeof FunctionEntry>;

/** Gateway settings; the same values belong on the OpenFaaS gateway and queue-worker. */
const GatewaySettings = z
  .object({
    upstream_timeout: z.string().optional(),
    read_timeout: z.string().optional(),
    write_timeout: z.string().optional(),
    /** Async calls run at once, across functions (queue-worker `max_inflight`). */
    queue_max_inflight: z.coerce.number().int().positive().optional(),
  })
  .default({});

export const StackFile = z.looseObject({
  version: Scalar.optional(),
  provider: z.looseObject({ name: z.literal('openfaas'), gateway: z.string().optional() }),
  functions: z.record(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), FunctionEntry),
  'x-gateway': GatewaySettings,
});
export type StackFile = z.infer<typeof StackFile>;

/** of-watchdog's default when a function sets no exec_timeout. */
export const DEFAULT_EXEC_TIMEOUT_MS = 10_000;
/** The OpenFaaS gateway's default upstream timeout. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

export interface CronSpec {
  expression: string;
}

/** One function as the local gateway runs it. */
export interface FunctionSpec {
  name: string;
  entry: FunctionEntry;
  /** Absolute path of the script `node` runs. */
  script: string;
  /** The function's environment from stack.yml (strings, after substitution). */
  environment: Record<string, string>;
  execTimeoutMs: number;
  /** 0 means unlimited. */
  maxInflight: number;
  /** `com.openfaas.scale.min`: 0 starts the process on its first call. */
  scaleMin: number;
  /** Present for `topic: cron-function` functions. */
  cron: CronSpec | undefined;
}

export interface LoadedStack {
  file: string;
  stack: StackFile;
  functions: FunctionSpec[];
  upstreamTimeoutMs: number;
  queueMaxInflight: number;
}

export interface LoadStackOptions {
  /** Used for ${VAR} substitution (faas-cli's envsubst, gateway/envsubst.ts). */
  env?: NodeJS.ProcessEnv;
  /** Where dist/functions/<name>/index.mjs lives; defaults to the stack file's folder. */
  root?: string;
  /** Per-function script overrides (tests, development). */
  scripts?: Record<string, string>;
}

export function loadStack(file: string, options: LoadStackOptions = {}): LoadedStack {
  const absolute = resolve(file);
  const text = substituteEnv(readFileSync(absolute, 'utf8'), options.env ?? process.env);
  return interpretStack(parseConfig(StackFile, parseYaml(text)), absolute, options);
}

export function interpretStack(stack: StackFile, file: string, options: LoadStackOptions = {}): LoadedStack {
  const root = options.root ?? dirname(file);
  const functions = Object.entries(stack.functions).map(([name, entry]) =>
    functionSpec(name, entry, dirname(file), root, options.scripts?.[name]),
  );
  const gateway = stack['x-gateway'];
  return {
    file,
    stack,
    functions,
    upstreamTimeoutMs: durationOr(gateway.upstream_timeout, DEFAULT_UPSTREAM_TIMEOUT_MS, 'upstream_timeout'),
    queueMaxInflight: gateway.queue_max_inflight ?? 10,
  };
}

function functionSpec(
  name: string,
  entry: FunctionEntry,
  stackDir: string,
  root: string,
  scriptOverride: string | undefined,
): FunctionSpec {
  const env = entry.environment;
  const topics = (entry.annotations.topic ?? '').split(',').map((t) => t.trim());
  const schedule = entry.annotations.schedule;
  return {
    name,
    entry,
    script: resolveScript(name, entry, stackDir, root, scriptOverride),
    environment: env,
    execTimeoutMs: durationOr(env.exec_timeout, DEFAULT_EXEC_TIMEOUT_MS, `${name}.exec_timeout`),
    maxInflight: nonNegativeInt(env.max_inflight, 0, `${name}.max_inflight`),
    scaleMin: nonNegativeInt(entry.labels['com.openfaas.scale.min'], 1, `${name} com.openfaas.scale.min`),
    cron: topics.includes('cron-function') && schedule ? { expression: schedule } : undefined,
  };
}

const SCRIPT_EXTENSIONS = new Set(['.mjs', '.js', '.cjs', '.ts', '.mts']);

/**
 * An explicit override wins; then a `handler:` that is a script file (fake
 * functions in tests); otherwise the bundle the container runs.
 */
function resolveScript(
  name: string,
  entry: FunctionEntry,
  stackDir: string,
  root: string,
  override: string | undefined,
): string {
  if (override) return resolve(override);
  if (entry.handler && SCRIPT_EXTENSIONS.has(extname(entry.handler))) {
    const handler = isAbsolute(entry.handler) ? entry.handler : join(stackDir, entry.handler);
    if (existsSync(handler) && statSync(handler).isFile()) return handler;
  }
  return join(root, 'dist', 'functions', name, 'index.mjs');
}

function durationOr(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text.trim() === '') return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw invalidStack(`${what} is not a duration: "${text}"`);
  return ms;
}

function nonNegativeInt(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw invalidStack(`${what} is not a whole number: "${text}"`);
  return n;
}

function invalidStack(message: string): ClipseekError {
  return new ClipseekError('INVALID_STACK', `stack.yml: ${message}`);
}
