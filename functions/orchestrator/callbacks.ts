import { createHash, createHmac } from 'node:crypto';
import { got } from 'got';
import type { CallbackBody } from '../../common/contracts/callback.js';
import { assertUrlAllowed, guardedLookup, type NetPolicy } from '../../common/net-policy.js';

export const SIGNATURE_HEADER = 'x-clipseek-signature';
export const DELIVERY_HEADER = 'x-clipseek-delivery';

/** `sha256=<hex>` over the exact body bytes, as receivers verify it. */
export function signBody(body: string, key: string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/** Stable for a request's final status: every retry and every resumed driver sends the same id. */
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
  signingKey: string;
  policy: NetPolicy;
  timeoutMs: number;
}

/**
 * One POST of a callback body: signed, never following redirects, the host
 * checked against the policy at connect time. Delivered means a 2xx answer;
 * retrying is the outbox's business (callback-outbox.ts).
 */
export async function sendCallback(
  url: string,
  body: CallbackBody,
  opts: SendOptions,
): Promise<Pick<CallbackAttemptRecord, 'status_code' | 'error' | 'delivered'>> {
  const text = JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: signBody(text, opts.signingKey),
    [DELIVERY_HEADER]: body.delivery_id,
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
