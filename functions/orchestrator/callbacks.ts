import { createHash, createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { got } from 'got';
import type { CallbackBody } from '../../common/contracts/callback.js';
import type { FinalResult } from '../../common/contracts/final.js';
import type { RequestState } from '../../common/contracts/state.js';
import type { Logger } from '../../common/logger.js';
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

export interface DeliverOptions {
  signingKey: string;
  policy: NetPolicy;
  logger: Logger;
  now: () => Date;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  /** Persists each attempt (state.json's `callbacks`). */
  record: (attempt: CallbackAttemptRecord) => Promise<void>;
}

/**
 * POSTs the result to the request's callback_url: signed, never following
 * redirects, retried with exponential backoff on network errors and non-2xx
 * answers. Returns whether it was delivered.
 */
export async function deliverCallback(
  state: RequestState,
  result: FinalResult | null,
  opts: DeliverOptions,
): Promise<boolean> {
  const url = state.request.callback_url;
  if (!url) return false;
  const id = deliveryId(state.request_id, state.status);
  const body: CallbackBody = {
    delivery_id: id,
    request_id: state.request_id,
    status: state.status,
    sent_at: opts.now().toISOString(),
    result,
    error: state.error,
  };
  const text = JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: signBody(text, opts.signingKey),
    [DELIVERY_HEADER]: id,
    'user-agent': 'clipseek-callback/1',
  };
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    const record: CallbackAttemptRecord = {
      delivery_id: id,
      url,
      attempt,
      at: opts.now().toISOString(),
      delivered: false,
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
      record.status_code = response.statusCode;
      record.delivered = response.statusCode >= 200 && response.statusCode < 300;
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
    }
    await opts.record(record);
    if (record.delivered) return true;
    opts.logger.warn({ attempt, status: record.status_code, err: record.error }, 'callback not delivered');
    if (attempt < opts.attempts) await delay(opts.backoffMs * 2 ** (attempt - 1));
  }
  return false;
}
