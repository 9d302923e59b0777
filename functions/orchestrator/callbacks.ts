import { createHash, createHmac } from 'node:crypto';
import { got } from 'got';
import type { CallbackBody } from '../../common/contracts/callback.js';
import { ClipseekError } from '../../common/errors.js';
import { assertUrlAllowed, guardedLookup, type NetPolicy } from '../../common/net-policy.js';

/**
 * Callbacks follow Standard Webhooks (standardwebhooks.com): receivers verify
 * them with its libraries and reject replays by the timestamp.
 */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

const SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key of the callback-signing-key secret. In the spec's form,
 * `whsec_<base64>`, it is the decoded bytes. Any other text (a secret made
 * before callbacks followed the spec, e.g. `openssl rand -hex 32`) is used as
 * its UTF-8 bytes, so it keeps working unchanged: its receivers configure
 * `whsec_` + base64 of that text (webhookSecretOf).
 */
export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) return Buffer.from(secret, 'utf8');
  const encoded = secret.slice(SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from skips what is not base64: check that the text was all of it.
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new ClipseekError(
      'INVALID_CONFIG',
      'callback-signing-key: whsec_ must be followed by the base64 of the key',
    );
  }
  return key;
}

/** The secret in the spec's form, as a receiver configures it (`new Webhook(…)`). */
export function webhookSecretOf(secret: string): string {
  return `${SECRET_PREFIX}${webhookKey(secret).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the timestamp in Unix seconds. */
export function signWebhook(id: string, timestampS: number, body: string, key: Buffer): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64')}`;
}

/**
 * Stable for a request's final status: every retry and every resumed driver
 * sends the same id (the spec's webhook-id, what receivers dedupe on).
 */
export function deliveryId(requestId: string, status: string): string {
  return `d_${createHash('sha256').update(`${requestId}:${status}`).digest('hex').slice(0, 24)}`;
}

export interface CallbackAttemptRecord {
  delivery_id: string;
  url: string;
  attempt: number;
  at: string;
  status_code?: number;
  error?: string;
  delivered: boolean;
}

export interface SendOptions {
  /** The callback-signing-key secret (see webhookKey). */
  signingKey: string;
  policy: NetPolicy;
  timeoutMs: number;
}

/**
 * One POST of a callback body: signed at `at` (the attempt's start; a retry is
 * signed anew, under the same webhook-id), never following redirects, the host
 * checked against the policy at connect time. Delivered means a 2xx answer;
 * retrying is the outbox's business (callback-outbox.ts).
 */
export async function sendCallback(
  url: string,
  body: CallbackBody,
  at: Date,
  opts: SendOptions,
): Promise<Pick<CallbackAttemptRecord, 'status_code' | 'error' | 'delivered'>> {
  const text = JSON.stringify(body);
  const timestamp = Math.floor(at.getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    [WEBHOOK_HEADERS.id]: body.delivery_id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: signWebhook(body.delivery_id, timestamp, text, webhookKey(opts.signingKey)),
    'user-agent': 'clipseek-callback/1',
  };
  try {
    await assertUrlAllowed(url, opts.policy, 'CALLBACK_URL_REFUSED');
    const response = await got.post(url, {
      body: text,
      headers,
      followRedirect: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: opts.timeoutMs },
      dnsLookup: guardedLookup(opts.policy, 'CALLBACK_URL_REFUSED') as never,
    });
    const delivered = response.statusCode >= 200 && response.statusCode < 300;
    return { status_code: response.statusCode, delivered };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), delivered: false };
  }
}
