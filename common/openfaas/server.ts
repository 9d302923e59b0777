import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CancelledError, InputError, TimeoutError } from '../errors.js';
import { type Logger, withContext } from '../logger.js';
import { errorAnswer } from './error-response.js';
import { closeServer, readBody, sendResponse, takeCallId } from './http.js';
import type { FunctionHandler, FunctionResponse } from './types.js';

export interface FunctionServerOptions {
  name: string;
  /** Each call logs through a child of it, with the call's `call_id`. */
  logger: Logger;
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
  const { handler } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const controllers = new Set<AbortController>();
  let draining = false;

  const server = createServer((req, res) => {
    void handleCall(req, res);
  });

  async function handleCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const callId = takeCallId(req, res);
    const url = new URL(req.url ?? '/', 'http://function.local');
    if (url.pathname === HEALTH_PATH) {
      sendResponse(res, {
        status: draining ? 503 : 200,
        headers: { 'Content-Type': 'text/plain' },
        body: draining ? 'draining' : 'OK',
      });
      return;
    }
    const logger = withContext(options.logger, { call_id: callId });
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
      const call = handler({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        rawBody,
        callId,
        signal: controller.signal,
        logger,
      });
      answer = await untilAborted(call, controller.signal);
    } catch (err) {
      failure = err;
      answer = errorAnswer(err);
    } finally {
      if (timer) clearTimeout(timer);
      controllers.delete(controller);
    }

    const status = sendResponse(res, answer);
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
    await closeServer(server, async () => {
      const deadline = Date.now() + graceMs;
      while (controllers.size > 0 && Date.now() < deadline) await sleep(50);
      for (const controller of controllers) {
        controller.abort(new CancelledError('the function is shutting down'));
      }
      // Let aborted calls write their answers before connections go.
      await sleep(controllers.size > 0 ? 100 : 0);
    });
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
