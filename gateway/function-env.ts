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
