/** What every part of the gateway shares (one per gateway), and one call as routed. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { AsyncQueue } from './async-queue.js';
import type { FunctionProcess } from './function-process.js';
import { forwardableHeaders } from './http.js';
import type { GatewaySettings } from './options.js';
import type { LoadedStack } from './stack.js';
import type { UpstreamCall } from './upstream.js';

export interface GatewayContext {
  settings: GatewaySettings;
  stack: LoadedStack;
  /** Filled once the server listens: each process is told the gateway's URL. */
  functions: Map<string, FunctionProcess>;
  queue: AsyncQueue;
}

/** A call to /function/<name> or /async-function/<name>. */
export interface FunctionCall {
  req: IncomingMessage;
  res: ServerResponse;
  fn: FunctionProcess;
  /** The path below the function's route; '' for none. */
  subPath: string;
  rawQuery: string;
  callId: string;
}

/** What the function process is sent for a call: its method, path, query and headers, and `body`. */
export function upstreamCall<B extends Readable | Buffer>(
  call: FunctionCall,
  body: B,
): UpstreamCall & { body: B } {
  const { req, callId } = call;
  const headers: OutgoingHttpHeaders = {
    ...forwardableHeaders(req.headers),
    'x-call-id': callId,
    'x-start-time': String(BigInt(Date.now()) * 1_000_000n),
    'x-forwarded-for': req.headers['x-forwarded-for'] ?? req.socket.remoteAddress ?? '',
    'x-forwarded-host': req.headers['x-forwarded-host'] ?? req.headers.host ?? '',
  };
  return { method: req.method ?? 'GET', path: call.subPath, rawQuery: call.rawQuery, headers, body };
}
