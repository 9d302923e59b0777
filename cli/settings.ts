import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSecret } from '../common/config.js';
import { Namespace } from '../common/contracts/common.js';
import { UsageError } from './errors.js';
import { readRunningStack } from './local-stack.js';

/** Options every verb accepts: which data folder, store and gateway to use. */
export const COMMON_OPTIONS = {
  data: { type: 'string' },
  storage: { type: 'string' },
  gateway: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const COMMON_USAGE = `common options:
  --data DIR       data folder of the local stack (default: $CLIPSEEK_DATA, else the
                   nearest .clipseek/ here or in a parent folder, else ./.clipseek)
  --storage URL    the store the functions use (default: $STORAGE_URL, else the running
                   \`clipseek up\` stack's, else file://<data>/bucket)
  --gateway URL    the OpenFaaS gateway (default: $GATEWAY_URL, else faas-cli's $OPENFAAS_URL,
                   else the running \`clipseek up\` stack's, else http://127.0.0.1:8080)
  -h, --help       this help`;

export interface CommonFlags {
  data?: string | undefined;
  storage?: string | undefined;
  gateway?: string | undefined;
}

export interface Settings {
  /** Absolute path of the data folder. */
  dataDir: string;
  storageUrl: string;
  gatewayUrl: string;
  /** Basic auth for a gateway that requires it (secrets basic-auth-user / basic-auth-password). */
  authorization?: string;
}

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';

const DATA_FOLDER = '.clipseek';
/**
 * What a data folder holds (at least one of them). Tells it from the folder
 * store's own `.clipseek/` inside <data>/bucket, met when walking up from there.
 */
const DATA_FOLDER_ENTRIES = ['up.json', 'bucket', 'secrets', 'reports', 'sample.mp4'];

/**
 * The data folder, absolute: --data, else $CLIPSEEK_DATA, else the nearest
 * .clipseek in `cwd` or a parent folder (as git finds its repository), else
 * .clipseek in `cwd`. Up, down and every other verb alike.
 */
export function dataDirFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
  exists: (path: string) => boolean = existsSync,
): string {
  const given = flag ?? nonEmpty(env.CLIPSEEK_DATA);
  if (given !== undefined) return resolve(cwd, given);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, DATA_FOLDER);
    if (DATA_FOLDER_ENTRIES.some((entry) => exists(join(candidate, entry)))) return candidate;
    if (dirname(dir) === dir) return resolve(cwd, DATA_FOLDER);
  }
}

/** Flags win, then the environment, then the stack `clipseek up` runs on the data folder, then defaults. */
export function resolveSettings(flags: CommonFlags, env: NodeJS.ProcessEnv, cwd: string): Settings {
  const dataDir = dataDirFrom(flags.data, env, cwd);
  const running = readRunningStack(dataDir);
  const storageUrl =
    flags.storage ??
    nonEmpty(env.STORAGE_URL) ??
    running?.storage_url ??
    pathToFileURL(join(dataDir, 'bucket')).href;
  const gatewayUrl = (
    flags.gateway ??
    // Ours first: GATEWAY_URL is also what the functions are given; OPENFAAS_URL is faas-cli's.
    nonEmpty(env.GATEWAY_URL) ??
    nonEmpty(env.OPENFAAS_URL) ??
    running?.gateway_url ??
    DEFAULT_GATEWAY_URL
  ).replace(/\/+$/, '');
  const secretsDir = join(dataDir, 'secrets');
  const user = readSecret('basic-auth-user', env, secretsDir);
  const password = readSecret('basic-auth-password', env, secretsDir);
  return {
    dataDir,
    storageUrl,
    gatewayUrl,
    ...(user && password
      ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
      : {}),
  };
}

/** An environment value, trimmed; blank counts as unset. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** For the verbs that read the video index: which namespace's. */
export const NAMESPACE_OPTION = { namespace: { type: 'string' } } as const;
export const NAMESPACE_USAGE =
  '      --namespace NS  the namespace searched (default: $CLIPSEEK_NAMESPACE, else "default")';

/** --namespace, else $CLIPSEEK_NAMESPACE, else "default" (the orchestrator's default too). */
export function namespaceFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const value = flag ?? nonEmpty(env.CLIPSEEK_NAMESPACE) ?? 'default';
  const parsed = Namespace.safeParse(value);
  if (!parsed.success) throw new UsageError(`namespace "${value}": ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
