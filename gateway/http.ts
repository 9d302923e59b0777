import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ClipseekError, InputError } from '../common/errors.js';
import { errorAnswer } from '../common/openfaas/error-response.js';

/** Hop-by-hop headers: they describe one connection and are not forwarded (RFC 7230 §6.1). */
const HOP_HEADERS = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Request or response headers minus hop-by-hop ones (and `host`, which the next hop sets). */
export function forwardableHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_HEADERS.has(name) || name === 'host') continue;
    out[name] = value;
  }
  return out;
}

export function sendError(
  res: ServerResponse,
  err: unknown,
  extraHeaders: Record<string, string> = {},
): number {
  const answer = errorAnswer(err);
  if (!res.headersSent && !res.destroyed) {
    res
      .writeHead(answer.status, { ...answer.headers, ...extraHeaders, 'Content-Type': 'application/json' })
      .end(JSON.stringify(answer.body));
  }
  return answer.status;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/** Reads a whole body, refusing more than `maxBytes` with 413 (the async limit of OpenFaaS). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > maxBytes) {
      req.resume();
      reject(tooLarge(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function tooLarge(maxBytes: number): InputError {
  return new InputError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxBytes} bytes`, {
    status: 413,
    details: { max_bytes: maxBytes },
  });
}

export interface BasicAuthCredentials {
  user: string;
  password: string;
}

export class UnauthorizedError extends ClipseekError {
  constructor() {
    super('UNAUTHORIZED', 'basic authentication required', { status: 401, retryable: false });
  }
}

/** True when the request carries exactly these credentials (compared in constant time). */
export function hasBasicAuth(req: IncomingMessage, credentials: BasicAuthCredentials): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return (
    safeEqual(decoded.slice(0, colon), credentials.user) &&
    safeEqual(decoded.slice(colon + 1), credentials.password)
  );
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function basicAuthHeader(credentials: BasicAuthCredentials): string {
  return `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
}
