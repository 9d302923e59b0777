import { readSecret } from '../common/config.js';
import type { FunctionSpec } from './stack.js';

export interface FunctionEnvSettings {
  /** Every secret any function in the stack names. */
  allSecrets: Set<string>;
  gatewayUrl: string;
  /** Overrides stack.yml's STORAGE_URL when set. */
  storageUrl?: string | undefined;
  secretsDir?: string | undefined;
}

/** What the gateway itself sets in every function's environment, over stack.yml's values. */
export const GATEWAY_SET_ENV = ['STORAGE_URL', 'GATEWAY_URL'] as const;

/**
 * The environment variables a function is configured with, as OpenFaaS
 * reports them (`envVars`): its stack.yml names, and the ones the gateway
 * sets, with the values its process really got. Secrets and the gateway's
 * own environment stay out.
 */
export function configuredEnv(spec: FunctionSpec, processEnv: NodeJS.ProcessEnv): Record<string, string> {
  const names = new Set([...Object.keys(spec.environment), ...GATEWAY_SET_ENV]);
  const configured: Record<string, string> = {};
  for (const name of names) {
    const value = processEnv[name];
    if (value !== undefined) configured[name] = value;
  }
  return configured;
}

/**
 * What a function process sees: the gateway's environment, then its stack.yml
 * environment, its secrets as environment variables (readSecret's fallback),
 * and where storage and the gateway are.
 */
export function functionEnv(
  spec: FunctionSpec,
  baseEnv: NodeJS.ProcessEnv,
  settings: FunctionEnvSettings,
): NodeJS.ProcessEnv {
  const { allSecrets, gatewayUrl } = settings;
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...spec.environment };
  // Like a container, a function gets only the secrets it names, even when the
  // gateway's own environment holds others.
  for (const secret of allSecrets) {
    if (!spec.entry.secrets.includes(secret)) delete env[secretEnvName(secret)];
  }
  for (const secret of spec.entry.secrets) {
    const value = readSecret(secret, baseEnv, settings.secretsDir);
    if (value !== undefined) env[secretEnvName(secret)] = value;
  }
  if (settings.storageUrl) env.STORAGE_URL = settings.storageUrl;
  env.GATEWAY_URL = gatewayUrl;
  return env;
}

/** readSecret's environment fallback: `s3-access-key` → `S3_ACCESS_KEY`. */
export function secretEnvName(secret: string): string {
  return secret.toUpperCase().replace(/-/g, '_');
}
