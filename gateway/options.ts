/** What startGateway takes, and the defaults it fills in (OpenFaaS's, where it has one). */
import { createLogger, type Logger } from '../common/logger.js';
import type { BasicAuthCredentials } from './http.js';

export interface GatewayOptions {
  /** Path of stack.yml. */
  stackFile: string;
  /** 0 picks a free port. Default 8080, as the OpenFaaS gateway. */
  port?: number;
  /** Default 127.0.0.1: expose it only on purpose, and then with basic auth. */
  host?: string;
  /** Passed to every function as STORAGE_URL (overrides stack.yml). */
  storageUrl?: string;
  /** Where dist/functions/<name>/index.mjs lives; defaults to the stack file's folder. */
  root?: string;
  /** Per-function script overrides. */
  scripts?: Record<string, string>;
  /** Run only these functions. */
  only?: string[];
  /** The environment functions inherit and stack.yml substitutes from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where secrets are read from for functions that name them (default /var/openfaas/secrets, then env). */
  secretsDir?: string;
  /** When set, /system/* and function routes need these credentials. */
  basicAuth?: BasicAuthCredentials;
  logger?: Logger;
  /** Function processes' stdout/stderr. Default 'inherit'. */
  functionOutput?: 'inherit' | 'ignore';
  nodeArgs?: string[];
  /** How long a process may take to answer /_/health after it starts. Default 60 s. */
  startupTimeoutMs?: number;
  /** How long a call waits for a function that is starting or restarting. Default 60 s. */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when stopping functions. Default 10 s. */
  stopGraceMs?: number;
  restartBackoff?: { baseMs: number; maxMs: number };
  /** Async requests larger than this are refused with 413. Default 1 MiB, as OpenFaaS. */
  asyncMaxBodyBytes?: number;
  callbackTimeoutMs?: number;
  /** Run cron-function schedules. Default true. */
  cron?: boolean;
}

type Defaulted =
  | 'port'
  | 'host'
  | 'env'
  | 'logger'
  | 'functionOutput'
  | 'nodeArgs'
  | 'startupTimeoutMs'
  | 'readyTimeoutMs'
  | 'stopGraceMs'
  | 'restartBackoff'
  | 'asyncMaxBodyBytes'
  | 'callbackTimeoutMs'
  | 'cron';

/** GatewayOptions with every default filled in. */
export type GatewaySettings = GatewayOptions & Required<Pick<GatewayOptions, Defaulted>>;

export function withDefaults(options: GatewayOptions): GatewaySettings {
  return {
    ...options,
    port: options.port ?? 8080,
    host: options.host ?? '127.0.0.1',
    env: options.env ?? process.env,
    logger: options.logger ?? createLogger({ name: 'gateway' }),
    functionOutput: options.functionOutput ?? 'inherit',
    nodeArgs: options.nodeArgs ?? [],
    startupTimeoutMs: options.startupTimeoutMs ?? 60_000,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    stopGraceMs: options.stopGraceMs ?? 10_000,
    restartBackoff: options.restartBackoff ?? { baseMs: 250, maxMs: 10_000 },
    asyncMaxBodyBytes: options.asyncMaxBodyBytes ?? 1024 * 1024,
    callbackTimeoutMs: options.callbackTimeoutMs ?? 30_000,
    cron: options.cron ?? true,
  };
}
