/**
 * The gateway's own HTTP pieces: what it forwards, how long a call took, and
 * basic auth. What it shares with the function server is in
 * common/openfaas/http.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { ClipseekError } from '../common/errors.js';

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

/** X-Duration-Seconds since `startedMs` (a performance.now() time), as the OpenFaaS gateway writes it. */
export function durationSeconds(startedMs: number): string {
  return ((performance.now() - startedMs) / 1000).toFixed(6);
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
