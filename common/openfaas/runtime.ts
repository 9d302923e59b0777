import { z } from 'zod';
import { parseConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createStore } from '../storage/index.js';
import { parseDuration } from './duration.js';
import type { FunctionRuntime } from './types.js';

const Duration = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: `not a duration: "${text}"` });
    return ms;
  });

/** The process settings a function reads from its environment, as of-watchdog and the gateway set them. */
const FunctionEnv = z.object({
  STORAGE_URL: z.string().min(1, 'STORAGE_URL is required (file:///… or s3://…)'),
  /** of-watchdog's upstream_url is http://127.0.0.1:3000. */
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  exec_timeout: Duration,
  write_timeout: Duration,
  /** How long SIGTERM waits for in-flight calls; defaults to write_timeout, else 10 s. */
  SHUTDOWN_GRACE: Duration,
});

export interface FunctionSettings {
  storageUrl: string;
  port: number;
  host: string;
  execTimeoutMs: number;
  shutdownGraceMs: number;
}

export function functionSettings(env: NodeJS.ProcessEnv): FunctionSettings {
  const parsed = parseConfig(FunctionEnv, env);
  return {
    storageUrl: parsed.STORAGE_URL,
    port: parsed.PORT,
    host: parsed.HOST,
    execTimeoutMs: parsed.exec_timeout ?? 0,
    shutdownGraceMs: parsed.SHUTDOWN_GRACE ?? parsed.write_timeout ?? 10_000,
  };
}

/** Store, logger and clock: built once per process, shared by every call. */
export async function createRuntime(
  name: string,
  settings: FunctionSettings,
  env: NodeJS.ProcessEnv,
  stopping: AbortSignal,
): Promise<FunctionRuntime> {
  const store = createStore(settings.storageUrl, { env });
  return { store, logger: createLogger({ name }), now: () => new Date(), env, stopping };
}
