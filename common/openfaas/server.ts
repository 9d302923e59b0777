import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CancelledError, ClipseekError, InputError, TimeoutError } from '../errors.js';
import { withContext } from '../logger.js';
import { errorAnswer } from './error-response.js';
import type { FunctionHandler, FunctionResponse, FunctionRuntime } from './types.js';

export interface FunctionServerOptions {
  name: string;
  runtime: FunctionRuntime;
  handler: FunctionHandler;
  /** of-watchdog's `exec_timeout`: past it the call's signal aborts and the caller gets 504. 0 = none. */
  execTimeoutMs?: number;
  /** Requests larger than this are refused with 413 before the handler runs. */
  maxBodyBytes?: number;
  /** When true, a body that is not JSON reaches the handler as `rawBody` only (body undefined) instead of a 422. */
  acceptNonJsonBody?: boolean;
  /**
   * Abort the call's signal when the caller goes away (default true). Stages
   * set it false: their work is idempotent and ends in a manifest, so
   * finishing it for a caller that died (an orchestrator killed mid-call)
   * lets the resumed orchestrator adopt it instead of doing it again.
   */
  abortOnDisconnect?: boolean;
}

export interface FunctionServer {
  server: Server;
  /** Calls currently being handled. */
  inFlight(): number;
  /**
   * Stops accepting connections and waits for in-flight calls up to `graceMs`;
   * then aborts what is left and closes every connection.
   */
  shutdown(graceMs: number): Promise<void>;
}

export const HEALTH_PATH = '/_/health';
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The OpenFaaS http-mode upstream: one HTTP server answering every call to the function. */
export function createFunctionServer(options: FunctionServerOptions): FunctionServer {
  const { runtime, handler } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const controllers = new Set<AbortController>();
  let draining = false;

  const server = createServer((req, res) => {
    void handleCall(req, res);
  });

  async function handleCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const callId = firstHeader(req.headers['x-call-id']) ?? randomUUID();
    res.setHeader('X-Call-Id', callId);
    const url = new URL(req.url ?? '/', 'http://function.local');
    if (url.pathname === HEALTH_PATH) {
      res.writeHead(draining ? 503 : 200, { 'Content-Type': 'text/plain' }).end(draining ? 'draining' : 'OK');
      return;
    }
    const logger = withContext(runtime.logger, { call_id: callId });
    const controller = new AbortController();
    controllers.add(controller);
    // The response closing before it was fully written means the caller went away.
    res.on('close', () => {
      if (!res.writableFinished && options.abortOnDisconnect !== false) {
        controller.abort(new CancelledError('the caller disconnected'));
      }
    });
    const timer =
      options.execTimeoutMs && options.execTimeoutMs > 0
        ? setTimeout(
            () =>
              controller.abort(
                new TimeoutError('EXEC_TIMEOUT', `${options.name} ran past its exec_timeout`, {
                  details: { exec_timeout_ms: options.execTimeoutMs },
                }),
              ),
            options.execTimeoutMs,
          )
        : undefined;

    let answer: FunctionResponse;
    let failure: unknown;
    try {
      const rawBody = await readBody(req, maxBodyBytes);
      const body = parseBody(rawBody, options.acceptNonJsonBody === true);
      const call = handler(
        {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
          rawBody,
          callId,
          signal: controller.signal,
          logger,
        },
        runtime,
      );
      answer = await untilAborted(call, controller.signal);
    } catch (err) {
      failure = err;
      answer = errorAnswer(err);
    } finally {
      if (timer) clearTimeout(timer);
      controllers.delete(controller);
    }

    const status = send(res, answer);
    const fields = {
      method: req.method,
      path: url.pathname,
      status,
      duration_ms: Math.round(performance.now() - started),
    };
    if (failure !== undefined && status >= 500) logger.error({ ...fields, err: failure }, 'call failed');
    else if (failure !== undefined) logger.warn({ ...fields, err: failure }, 'call rejected');
    else logger.info(fields, 'call finished');
  }

  async function shutdown(graceMs: number): Promise<void> {
    draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (controllers.size > 0 && Date.now() < deadline) await sleep(50);
    for (const controller of controllers) {
      controller.abort(new CancelledError('the function is shutting down'));
    }
    // Let aborted calls write their answers before connections go.
    await sleep(controllers.size > 0 ? 100 : 0);
    server.closeAllConnections();
    await closed;
  }

  return { server, inFlight: () => controllers.size, shutdown };
}

/** A handler that ignores its signal still cannot hold the answer past an abort. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(
          new InputError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxBytes} bytes`, {
            status: 413,
            details: { max_bytes: maxBytes },
          }),
        );
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', (err) => reject(new CancelledError('the request body was cut off', { cause: err })));
  });
}

function parseBody(raw: Buffer, acceptNonJson: boolean): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    if (acceptNonJson) return undefined;
    throw new InputError('INVALID_JSON', 'the request body is not valid JSON', {
      cause: err,
      details: { reason: err instanceof Error ? err.message : String(err) },
    });
  }
}

/** Writes the answer (unless the caller is gone) and returns the status it carries. */
function send(res: ServerResponse, answer: FunctionResponse): number {
  let status = answer.status ?? 200;
  let headers = answer.headers ?? {};
  let payload: string | Buffer;
  if (answer.body === undefined) payload = '';
  else if (Buffer.isBuffer(answer.body) || typeof answer.body === 'string') payload = answer.body;
  else {
    try {
      payload = JSON.stringify(answer.body);
    } catch (err) {
      const fallback = errorAnswer(
        new ClipseekError('INTERNAL', 'response is not serialisable', { cause: err }),
      );
      status = fallback.status;
      headers = fallback.headers;
      payload = JSON.stringify(fallback.body);
    }
    if (!hasHeader(headers, 'content-type')) headers = { ...headers, 'Content-Type': 'application/json' };
  }
  if (res.destroyed || res.headersSent) return status;
  res.writeHead(status, headers).end(payload);
  return status;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v && v.trim() !== '' ? v.trim() : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
