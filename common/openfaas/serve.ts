/**
 * The OpenFaaS adapter: turns a stage or a plain handler into the HTTP server
 * of-watchdog (mode=http, upstream_url=http://127.0.0.1:3000) and the local
 * gateway call. Unlike the stock Node template, a thrown error never answers
 * 200: see error-response.ts for the mapping.
 */
import type { Server } from 'node:http';
import type { FunctionStageName } from '../contracts/pipeline.js';
import { runStageOnce, type StageDefinition } from '../stage.js';
import { listen } from './http.js';
import { MethodNotAllowedError } from './method-error.js';
import { createRuntime, functionSettings } from './runtime.js';
import { createFunctionServer, type FunctionServer } from './server.js';
import type {
  FunctionHandler,
  FunctionInit,
  FunctionRequest,
  FunctionResponse,
  FunctionRuntime,
} from './types.js';

export type { FunctionHandler, FunctionInit, FunctionRequest, FunctionResponse, FunctionRuntime };

export interface ServeFunctionOptions {
  /** Let non-JSON bodies through as `rawBody` (body undefined) instead of answering 422. */
  acceptNonJsonBody?: boolean;
  /** See FunctionServerOptions.abortOnDisconnect (default true). */
  abortOnDisconnect?: boolean;
}

/**
 * Serves a non-stage function (orchestrator, sweeper). Reads STORAGE_URL, PORT,
 * HOST and exec_timeout from the environment, builds the handler with `init`
 * (once, before the server listens), and drains on SIGTERM/SIGINT.
 */
export async function serveFunction(
  name: string,
  init: FunctionInit,
  options: ServeFunctionOptions = {},
): Promise<Server> {
  const env = process.env;
  const settings = functionSettings(env);
  const stopping = new AbortController();
  const runtime = await createRuntime(name, settings, env, stopping.signal);
  const fn = createFunctionServer({
    name,
    logger: runtime.logger,
    handler: await init(runtime),
    execTimeoutMs: settings.execTimeoutMs,
    acceptNonJsonBody: options.acceptNonJsonBody,
    abortOnDisconnect: options.abortOnDisconnect,
  });
  await listen(fn.server, settings.port, settings.host);
  runtime.logger.info({ host: settings.host, port: settings.port }, `${name} listening`);
  drainOnSignals(fn, runtime, stopping, settings.shutdownGraceMs);
  return fn.server;
}

/**
 * Serves a stage: POST body = the stage input; 200 = its manifest (written by
 * runStageOnce, which validates input and output). Dependencies come from
 * `createDeps`, called once per process.
 */
export function serveStage<S extends FunctionStageName, D>(
  stage: StageDefinition<S, D>,
  createDeps: (rt: FunctionRuntime) => D | Promise<D>,
): Promise<Server> {
  return serveFunction(stage.name, async (rt) => stageHandler(stage, rt, await createDeps(rt)), {
    // A stage finishes what it started even if its caller is gone: the manifest it writes
    // is then reused on resume instead of the work being done again.
    abortOnDisconnect: false,
  });
}

/** The handler serveStage uses; exported for tests that build their own runtime. */
export function stageHandler<S extends FunctionStageName, D>(
  stage: StageDefinition<S, D>,
  rt: FunctionRuntime,
  deps: D,
): FunctionHandler {
  const claimTtlS = Number(rt.env.STAGE_CLAIM_TTL_S);
  return async (req) => {
    if (req.method !== 'POST') throw new MethodNotAllowedError(req.method, ['POST']);
    const requestId = (req.body as { request_id?: unknown } | undefined)?.request_id;
    const logger =
      typeof requestId === 'string'
        ? req.logger.child({ request_id: requestId, stage: stage.name })
        : req.logger;
    const { manifest, reused } = await runStageOnce(stage, req.body, {
      ...deps,
      store: rt.store,
      logger,
      signal: req.signal,
      now: rt.now,
      ...(claimTtlS > 0 ? { claimTtlMs: claimTtlS * 1000 } : {}),
    });
    return { status: 200, headers: { 'X-Manifest-Reused': String(reused) }, body: manifest };
  };
}

function drainOnSignals(
  fn: FunctionServer,
  runtime: FunctionRuntime,
  stopping: AbortController,
  graceMs: number,
): void {
  const stop = (signal: NodeJS.Signals) => {
    if (stopping.signal.aborted) return;
    stopping.abort();
    runtime.logger.info({ signal, in_flight: fn.inFlight(), grace_ms: graceMs }, 'draining');
    void fn
      .shutdown(graceMs)
      .then(() => runtime.store.close?.())
      .catch((err: unknown) => runtime.logger.error({ err }, 'error while shutting down'))
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
