/**
 * The local OpenFaaS-compatible gateway: the embedded default stack. It reads
 * stack.yml, runs every function as its own `node` process, and answers the
 * gateway HTTP API (routes.ts). The parts share one GatewayContext: routes,
 * sync proxy, async worker, supervision of the processes, and cron.
 */
import { createServer } from 'node:http';
import { closeServer, listen } from '../common/openfaas/http.js';
import { AsyncQueue } from './async-queue.js';
import { runAsync } from './async-worker.js';
import type { GatewayContext } from './context.js';
import type { FunctionProcess } from './function-process.js';
import { type GatewayOptions, withDefaults } from './options.js';
import { routeRequests } from './routes.js';
import { type CronScheduler, cronConnector } from './scheduler.js';
import { type LoadedStack, loadStack } from './stack.js';
import { selectFunctions, startEagerFunctions, stopFunctions, superviseFunctions } from './supervision.js';

export type { GatewayOptions } from './options.js';

export interface Gateway {
  url: string;
  port: number;
  host: string;
  stack: LoadedStack;
  functions: Map<string, FunctionProcess>;
  scheduler: CronScheduler;
  /** Resolves when no async call is queued or running. */
  asyncIdle(): Promise<void>;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const settings = withDefaults(options);
  const { logger, host } = settings;
  const stack = loadStack(options.stackFile, {
    env: settings.env,
    root: options.root,
    scripts: options.scripts,
  });
  const specs = selectFunctions(stack, options.only);
  const ctx: GatewayContext = {
    settings,
    stack,
    functions: new Map(),
    queue: new AsyncQueue((job) => runAsync(ctx, job), stack.queueMaxInflight, logger),
  };

  const server = createServer(routeRequests(ctx));
  await listen(server, settings.port, host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  superviseFunctions(ctx, specs, url);
  const scheduler = cronConnector(specs, url, settings.basicAuth, logger);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      scheduler.stop();
      ctx.queue.stop();
      await closeServer(server, () => stopFunctions(ctx));
      logger.info('gateway stopped');
    })();
    return closing;
  };

  try {
    await startEagerFunctions(ctx);
  } catch (err) {
    await close();
    throw err;
  }
  if (settings.cron) scheduler.start();
  logger.info({ url, functions: [...ctx.functions.keys()] }, 'gateway listening');
  return {
    url,
    port,
    host,
    stack,
    functions: ctx.functions,
    scheduler,
    asyncIdle: () => ctx.queue.idle(),
    close,
  };
}
