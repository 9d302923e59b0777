/**
 * Calls a function process over HTTP, the way the gateway (sync) and the
 * queue-worker (async) reach the watchdog: same method, sub-path, query,
 * headers and body. The deadline is the function's exec_timeout (504), or the
 * gateway's upstream_timeout when that is shorter (502), as in OpenFaaS.
 */
import { type IncomingMessage, type OutgoingHttpHeaders, request } from 'node:http';
import type { Readable } from 'node:stream';
import { type ClipseekError, RetryableError, TimeoutError } from '../common/errors.js';

export interface UpstreamCall {
  method: string;
  /** The path below /function/<name>; '' means '/'. */
  path: string;
  rawQuery: string;
  headers: OutgoingHttpHeaders;
  body: Readable | Buffer;
}

export interface Deadline {
  ms: number;
  error: ClipseekError;
}

export function deadlineFor(name: string, execTimeoutMs: number, upstreamTimeoutMs: number): Deadline {
  if (upstreamTimeoutMs < execTimeoutMs) {
    return {
      ms: upstreamTimeoutMs,
      error: new RetryableError('UPSTREAM_TIMEOUT', `${name} ran past the gateway's upstream_timeout`, {
        status: 502,
        details: { function: name, upstream_timeout_ms: upstreamTimeoutMs },
      }),
    };
  }
  return {
    ms: execTimeoutMs,
    error: new TimeoutError('EXEC_TIMEOUT', `${name} ran past its exec_timeout`, {
      details: { function: name, exec_timeout_ms: execTimeoutMs },
    }),
  };
}

export interface UpstreamHandle {
  /** Resolves with the response once its headers arrive. */
  response: Promise<IncomingMessage>;
  /** Drops the call: the function sees its caller disconnect (its signal aborts). */
  abort(): void;
}

export function startUpstream(port: number, call: UpstreamCall): UpstreamHandle {
  const path = (call.path === '' ? '/' : call.path) + (call.rawQuery ? `?${call.rawQuery}` : '');
  const req = request({ host: '127.0.0.1', port, method: call.method, path, headers: call.headers });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', (err) =>
      reject(
        new RetryableError('BAD_GATEWAY', `cannot reach the function: ${err.message}`, {
          status: 502,
          cause: err,
        }),
      ),
    );
  });
  if (Buffer.isBuffer(call.body)) req.end(call.body);
  else call.body.pipe(req);
  return { response, abort: () => req.destroy() };
}

export interface BufferedResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A whole call, body included, within the deadline (the queue-worker's view). */
export function callBuffered(
  port: number,
  call: UpstreamCall,
  deadline: Deadline,
): Promise<BufferedResponse> {
  return new Promise((resolve, reject) => {
    const handle = startUpstream(port, call);
    const timer = setTimeout(() => {
      handle.abort();
      reject(deadline.error);
    }, deadline.ms);
    handle.response
      .then(
        (res) =>
          new Promise<BufferedResponse>((done, fail) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.once('end', () =>
              done({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
            );
            res.once('error', (err) =>
              fail(
                new RetryableError('BAD_GATEWAY', 'the function response was cut off', {
                  status: 502,
                  cause: err,
                }),
              ),
            );
          }),
      )
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}
