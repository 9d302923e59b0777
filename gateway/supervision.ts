/**
 * The function processes: which functions run (stack.yml, `only`, bundles
 * that exist), one supervised FunctionProcess each (function-process.ts
 * restarts it), started now or on their first call.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ClipseekError } from '../common/errors.js';
import type { GatewayContext } from './context.js';
import { functionEnv } from './function-env.js';
import { FunctionProcess } from './function-process.js';
import type { FunctionSpec, LoadedStack } from './stack.js';

/** The functions to run: all of stack.yml, or `only`; each must have its script built. */
export function selectFunctions(stack: LoadedStack, only: string[] | undefined): FunctionSpec[] {
  const all = stack.functions;
  const unknown = (only ?? []).filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new ClipseekError('INVALID_CONFIG', `not in stack.yml: ${unknown.join(', ')}`);
  }
  const specs = only ? all.filter((s) => only.includes(s.name)) : all;
  const missing = specs.filter((s) => !existsSync(s.script));
  if (missing.length > 0) {
    throw new ClipseekError(
      'MISSING_BUNDLE',
      `no script for ${missing.map((s) => `${s.name} (${s.script})`).join(', ')}; run \`npm run build\` first`,
      { details: { missing: missing.map((s) => s.script) } },
    );
  }
  return specs;
}

/** Adds one FunctionProcess per spec to `ctx.functions`; none is started yet. */
export function superviseFunctions(ctx: GatewayContext, specs: FunctionSpec[], gatewayUrl: string): void {
  const { settings, stack } = ctx;
  const allSecrets = new Set(stack.functions.flatMap((s) => s.entry.secrets));
  for (const spec of specs) {
    ctx.functions.set(
      spec.name,
      new FunctionProcess(spec, {
        env: functionEnv(spec, settings.env, {
          allSecrets,
          gatewayUrl,
          storageUrl: settings.storageUrl,
          secretsDir: settings.secretsDir,
        }),
        logger: settings.logger,
        cwd: settings.root ?? dirname(stack.file),
        output: settings.functionOutput,
        nodeArgs: settings.nodeArgs,
        startupTimeoutMs: settings.startupTimeoutMs,
        stopGraceMs: settings.stopGraceMs,
        backoff: settings.restartBackoff,
      }),
    );
  }
}

/** Starts the functions that do not scale from zero, and waits until they are ready. */
export async function startEagerFunctions(ctx: GatewayContext): Promise<void> {
  const eager = [...ctx.functions.values()].filter((fn) => fn.spec.scaleMin > 0);
  await Promise.all(eager.map((fn) => fn.ready(ctx.settings.startupTimeoutMs)));
}

export async function stopFunctions(ctx: GatewayContext): Promise<void> {
  await Promise.all([...ctx.functions.values()].map((fn) => fn.stop()));
}
