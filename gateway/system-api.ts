import { configuredEnv } from './function-env.js';
import type { FunctionProcess } from './function-process.js';

/** The shape of the OpenFaaS FunctionStatus, as far as it means anything here. */
export function functionStatus(fn: FunctionProcess): Record<string, unknown> {
  const { entry } = fn.spec;
  const running = fn.state === 'ready' || fn.state === 'starting' || fn.state === 'backoff';
  return {
    name: fn.name,
    image: entry.image ?? '',
    namespace: 'openfaas-fn',
    envProcess: `node ${fn.spec.script}`,
    // What the process runs with: the gateway's --storage and its own URL win over stack.yml.
    envVars: configuredEnv(fn.spec, fn.env),
    labels: entry.labels,
    annotations: entry.annotations,
    secrets: entry.secrets,
    limits: entry.limits ?? null,
    requests: entry.requests ?? null,
    invocationCount: fn.invocations,
    replicas: running ? 1 : 0,
    availableReplicas: fn.state === 'ready' ? 1 : 0,
    createdAt: fn.startedAt?.toISOString() ?? null,
  };
}
