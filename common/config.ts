import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { ClipseekError } from './errors.js';

export const SECRETS_DIR = process.env.OPENFAAS_SECRETS_DIR ?? '/var/openfaas/secrets';

/**
 * Reads an OpenFaaS secret (a file under /var/openfaas/secrets/<name>), falling
 * back to an environment variable of the same name upper-cased with _ for -
 * (the embedded stack passes secrets that way). Undefined when neither exists.
 */
export function readSecret(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  dir: string = SECRETS_DIR,
): string | undefined {
  let fromFile: string | undefined;
  try {
    fromFile = readFileSync(join(dir, name), 'utf8').trim();
  } catch {
    fromFile = undefined;
  }
  // An empty secret file counts as no secret, like an empty variable.
  if (fromFile) return fromFile;
  const fromEnv = env[name.toUpperCase().replace(/-/g, '_')];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/**
 * Parses configuration once, at start-up. A bad setting stops the process with
 * a message naming the variable, rather than failing on the first request.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new ClipseekError('INVALID_CONFIG', `invalid configuration: ${problems}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}
