/**
 * The HTTP pieces both ends of a call need: the local gateway and the function
 * server read call ids and bodies, answer, listen and close the same way.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { CancelledError, ClipseekError, InputError } from '../errors.js';
import { errorAnswer } from './error-response.js';
import type { FunctionResponse } from './types.js';

/** The first value of a header, trimmed; undefined when missing or blank. */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
}

/** The caller's X-Call-Id, or a new one; echoed on the response either way. */
export function takeCallId(req: IncomingMessage, res: ServerResponse): string {
  const callId = firstHeader(req.headers['x-call-id']) ?? randomUUID();
  res.setHeader('X-Call-Id', callId);
  return callId;
}

/** Reads a whole body, refusing more than `maxBytes` with 413 (declared or sent). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? '0') > maxBytes) {
      req.resume();
      reject(payloadTooLarge(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBytes) {
        // Keep reading (and dropping) the rest, so the 413 reaches a caller still sending.
        refused = true;
        req.resume();
        reject(payloadTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => reject(new CancelledError('the request body was cut off', { cause: err })));
  });
}

function payloadTooLarge(maxBytes: number): InputError {
  return new InputError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxBytes} bytes`, {
    status: 413,
    details: { max_bytes: maxBytes },
  });
}

/**
 * Writes an answer (unless the caller is gone) and returns the status it
 * carries. A body that is not a string or Buffer is sent as JSON.
 */
export function sendResponse(res: ServerResponse, answer: FunctionResponse): number {
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

/** Answers a thrown value as error-response.ts maps it; returns the status. */
export function sendError(
  res: ServerResponse,
  err: unknown,
  extraHeaders: Record<string, string> = {},
): number {
  const answer = errorAnswer(err);
  return sendResponse(res, { ...answer, headers: { ...answer.headers, ...extraHeaders } });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Stops taking connections and closes idle ones, lets `drain` finish what is
 * in flight, then closes every connection left.
 */
export async function closeServer(server: Server, drain: () => Promise<void>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await drain();
  server.closeAllConnections();
  await closed;
}
