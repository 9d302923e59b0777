/**
 * The local OpenFaaS-compatible gateway: the embedded default stack. It reads
 * stack.yml, runs every function as its own `node` process, and answers the
 * gateway HTTP API: /function/<name>, /async-function/<name>, /system/functions,
 * /system/function/<name>, /healthz.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ClipseekError, InputError, NotFoundError, RetryableError } from '../common/errors.js';
import { createLogger, type Logger } from '../common/logger.js';
import { errorAnswer } from '../common/openfaas/error-response.js';
import { type AsyncJob, AsyncQueue } from './async-queue.js';
import { parseCallbackUrl, postCallback } from './callback.js';
import { functionEnv } from './function-env.js';
import { FunctionProcess } from './function-process.js';
import {
  type BasicAuthCredentials,
  basicAuthHeader,
  forwardableHeaders,
  hasBasicAuth,
  readBody,
  sendError,
  sendJson,
  UnauthorizedError,
} from './http.js';
import { CronScheduler } from './scheduler.js';
import { type FunctionSpec, type LoadedStack, loadStack } from './stack.js';
import { functionStatus } from './system-api.js';
import { callBuffered, deadlineFor, startUpstream } from './upstream.js';

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

const ROUTE = /^\/(function|async-function)\/([-a-zA-Z0-9_.]+)(\/[^?]*)?$/;
const SYSTEM_FUNCTION = /^\/system\/function\/([-a-zA-Z0-9_.]+)$/;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const baseEnv = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ name: 'gateway' });
  const stack = loadStack(options.stackFile, { env: baseEnv, root: options.root, scripts: options.scripts });
  const specs = selectFunctions(stack.functions, options.only);
  const missing = specs.filter((s) => !existsSync(s.script));
  if (missing.length > 0) {
    throw new ClipseekError(
      'MISSING_BUNDLE',
      `no script for ${missing.map((s) => `${s.name} (${s.script})`).join(', ')}; run \`npm run build\` first`,
      { details: { missing: missing.map((s) => s.script) } },
    );
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const asyncMaxBodyBytes = options.asyncMaxBodyBytes ?? 1024 * 1024;
  const callbackTimeoutMs = options.callbackTimeoutMs ?? 30_000;
  const functions = new Map<string, FunctionProcess>();

  const queue = new AsyncQueue((job) => runAsync(job), stack.queueMaxInflight, logger);
  const server = createServer((req, res) => {
    void route(req, res);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const allSecrets = new Set(stack.functions.flatMap((s) => s.entry.secrets));
  for (const spec of specs) {
    functions.set(
      spec.name,
      new FunctionProcess(spec, {
        env: functionEnv(spec, baseEnv, {
          allSecrets,
          gatewayUrl: url,
          storageUrl: options.storageUrl,
          secretsDir: options.secretsDir,
        }),
        logger,
        cwd: options.root ?? dirname(stack.file),
        output: options.functionOutput ?? 'inherit',
        nodeArgs: options.nodeArgs ?? [],
        startupTimeoutMs: options.startupTimeoutMs ?? 60_000,
        stopGraceMs: options.stopGraceMs ?? 10_000,
        backoff: options.restartBackoff ?? { baseMs: 250, maxMs: 10_000 },
      }),
    );
  }

  const scheduler = new CronScheduler(
    specs.flatMap((s) => (s.cron ? [{ name: s.name, expression: s.cron.expression }] : [])),
    (name) => invokeThroughGateway(url, name, options.basicAuth),
    logger,
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      scheduler.stop();
      queue.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
      server.closeAllConnections();
      await closed;
      logger.info('gateway stopped');
    })();
    return closing;
  };

  // Scale-from-zero functions start on their first call; the others now.
  const eager = [...functions.values()].filter((fn) => fn.spec.scaleMin > 0);
  try {
    await Promise.all(eager.map((fn) => fn.ready(options.startupTimeoutMs ?? 60_000)));
  } catch (err) {
    await close();
    throw err;
  }
  if (options.cron !== false) scheduler.start();
  logger.info({ url, functions: [...functions.keys()] }, 'gateway listening');

  return { url, port, host, stack, functions, scheduler, asyncIdle: () => queue.idle(), close };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const callId = firstHeader(req.headers['x-call-id']) ?? randomUUID();
    res.setHeader('X-Call-Id', callId);
    const { pathname, search } = new URL(req.url ?? '/', 'http://gateway.local');
    let status: number;
    try {
      status = await dispatch(req, res, pathname, search.slice(1), callId);
    } catch (err) {
      status = sendError(
        res,
        err,
        err instanceof UnauthorizedError ? { 'WWW-Authenticate': 'Basic realm="Restricted"' } : {},
      );
    }
    logger.info(
      {
        method: req.method,
        path: pathname,
        status,
        call_id: callId,
        duration_ms: Math.round(performance.now() - started),
      },
      'gateway call',
    );
  }

  async function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    rawQuery: string,
    callId: string,
  ): Promise<number> {
    if (pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
      return 200;
    }
    const fnRoute = ROUTE.exec(pathname);
    if (!fnRoute && !pathname.startsWith('/system/')) {
      throw new NotFoundError('ROUTE_NOT_FOUND', `no route for ${pathname}`);
    }
    if (options.basicAuth && !hasBasicAuth(req, options.basicAuth)) throw new UnauthorizedError();
    if (fnRoute) {
      const [, kind, name, subPath] = fnRoute;
      const fn = functions.get(name!);
      if (!fn)
        throw new NotFoundError('FUNCTION_NOT_FOUND', `function ${name} not found`, { details: { name } });
      if (kind === 'async-function') return enqueueAsync(req, res, fn, subPath ?? '', rawQuery, callId);
      return proxySync(req, res, fn, subPath ?? '', rawQuery, callId);
    }
    if (req.method !== 'GET') throw methodNotAllowed(req.method);
    if (pathname === '/system/functions') {
      sendJson(res, 200, [...functions.values()].map(functionStatus));
      return 200;
    }
    const one = SYSTEM_FUNCTION.exec(pathname);
    const fn = one ? functions.get(one[1]!) : undefined;
    if (!fn) throw new NotFoundError('FUNCTION_NOT_FOUND', `no such function or route: ${pathname}`);
    sendJson(res, 200, functionStatus(fn));
    return 200;
  }

  async function proxySync(
    req: IncomingMessage,
    res: ServerResponse,
    fn: FunctionProcess,
    subPath: string,
    rawQuery: string,
    callId: string,
  ): Promise<number> {
    if (!fn.tryAcquire()) throw tooManyRequests(fn);
    const started = performance.now();
    try {
      const port = await fn.ready(readyTimeoutMs);
      const upstream = startUpstream(port, {
        method: req.method ?? 'GET',
        path: subPath,
        rawQuery,
        headers: upstreamHeaders(req, callId),
        body: req,
      });
      const deadline = deadlineFor(fn.name, fn.spec.execTimeoutMs, stack.upstreamTimeoutMs);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        upstream.abort();
        if (res.headersSent) res.destroy();
        else sendError(res, deadline.error);
      }, deadline.ms);
      // A caller that hangs up cancels the function call too.
      res.once('close', () => {
        if (!res.writableFinished) upstream.abort();
      });
      try {
        const answer = await upstream.response;
        res.writeHead(answer.statusCode ?? 502, {
          ...forwardableHeaders(answer.headers),
          'X-Call-Id': callId,
          'X-Duration-Seconds': seconds(started),
        });
        await pipeline(answer, res);
        return answer.statusCode ?? 502;
      } catch (err) {
        if (timedOut) return errorAnswer(deadline.error).status;
        return sendError(res, err);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      fn.release();
      queue.pump();
    }
  }

  async function enqueueAsync(
    req: IncomingMessage,
    res: ServerResponse,
    fn: FunctionProcess,
    subPath: string,
    rawQuery: string,
    callId: string,
  ): Promise<number> {
    if (req.method !== 'POST') throw methodNotAllowed(req.method);
    const callbackHeader = firstHeader(req.headers['x-callback-url']);
    const callbackUrl = callbackHeader === undefined ? undefined : parseCallbackUrl(callbackHeader);
    if (callbackHeader !== undefined && !callbackUrl) {
      throw new InputError('INVALID_CALLBACK_URL', 'X-Callback-Url is not an absolute http(s) URL', {
        status: 400,
        details: { value: callbackHeader },
      });
    }
    const body = await readBody(req, asyncMaxBodyBytes);
    const job: AsyncJob = {
      callId,
      fn,
      call: { method: 'POST', path: subPath, rawQuery, headers: upstreamHeaders(req, callId), body },
      callbackUrl,
      queuedAt: Date.now(),
    };
    queue.enqueue(job);
    res.writeHead(202, { 'X-Call-Id': callId }).end();
    return 202;
  }

  async function runAsync(job: AsyncJob): Promise<void> {
    const started = performance.now();
    let status: number;
    let headers: OutgoingHttpHeaders;
    let body: Buffer;
    try {
      const port = await job.fn.ready(readyTimeoutMs);
      const deadline = deadlineFor(job.fn.name, job.fn.spec.execTimeoutMs, stack.upstreamTimeoutMs);
      const answer = await callBuffered(port, { ...job.call, headers: { ...job.call.headers } }, deadline);
      status = answer.status;
      headers = forwardableHeaders(answer.headers);
      body = answer.body;
    } catch (err) {
      const answer = errorAnswer(err);
      status = answer.status;
      headers = { ...answer.headers, 'content-type': 'application/json' };
      body = Buffer.from(JSON.stringify(answer.body));
    }
    const duration = seconds(started);
    logger.info(
      { function: job.fn.name, call_id: job.callId, status, duration_s: Number(duration) },
      'async call finished',
    );
    if (!job.callbackUrl) return;
    delete headers['content-length'];
    try {
      const callbackStatus = await postCallback(
        job.callbackUrl,
        {
          ...headers,
          'X-Call-Id': job.callId,
          'X-Function-Status': String(status),
          'X-Function-Name': job.fn.name,
          'X-Duration-Seconds': duration,
        },
        body,
        callbackTimeoutMs,
      );
      logger.info(
        { call_id: job.callId, url: job.callbackUrl.href, status: callbackStatus },
        'callback posted',
      );
    } catch (err) {
      // Sent once, as the queue-worker does: the receiver must cope with a lost callback.
      logger.error({ err, call_id: job.callId, url: job.callbackUrl.href }, 'callback failed');
    }
  }
}

function selectFunctions(all: FunctionSpec[], only: string[] | undefined): FunctionSpec[] {
  if (!only) return all;
  const unknown = only.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new ClipseekError('INVALID_CONFIG', `not in stack.yml: ${unknown.join(', ')}`);
  }
  return all.filter((s) => only.includes(s.name));
}

function upstreamHeaders(req: IncomingMessage, callId: string): OutgoingHttpHeaders {
  return {
    ...forwardableHeaders(req.headers),
    'x-call-id': callId,
    'x-start-time': String(BigInt(Date.now()) * 1_000_000n),
    'x-forwarded-for': req.headers['x-forwarded-for'] ?? req.socket.remoteAddress ?? '',
    'x-forwarded-host': req.headers['x-forwarded-host'] ?? req.headers.host ?? '',
  };
}

async function invokeThroughGateway(
  gatewayUrl: string,
  name: string,
  auth: BasicAuthCredentials | undefined,
): Promise<number> {
  const headers: Record<string, string> = { 'X-Connector': 'cron-connector' };
  if (auth) headers.Authorization = basicAuthHeader(auth);
  const res = await fetch(`${gatewayUrl}/function/${name}`, { method: 'POST', headers });
  await res.arrayBuffer();
  return res.status;
}

function tooManyRequests(fn: FunctionProcess): RetryableError {
  return new RetryableError(
    'TOO_MANY_REQUESTS',
    `${fn.name} is at its max_inflight (${fn.spec.maxInflight})`,
    {
      status: 429,
      details: { function: fn.name, max_inflight: fn.spec.maxInflight },
    },
  );
}

function methodNotAllowed(method: string | undefined): ClipseekError {
  return new ClipseekError('METHOD_NOT_ALLOWED', `${method} is not allowed here`, { status: 405 });
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
}

function seconds(startedMs: number): string {
  return ((performance.now() - startedMs) / 1000).toFixed(6);
}
