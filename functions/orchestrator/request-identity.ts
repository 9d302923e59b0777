import { createHash, createHmac, randomBytes } from 'node:crypto';
import { DERIVED_ID_PREFIX, type SubmitRequest } from '../../common/contracts/request.js';
import { InputError } from '../../common/errors.js';
import type { IdSource } from '../../common/request-digest.js';

const MAX_KEY = 200;

/**
 * The key an Idempotency-Key header carries. The IETF draft
 * (draft-ietf-httpapi-idempotency-key-header) makes it a Structured Field
 * String (RFC 8941): quoted, printable ASCII with spaces, `\"` and `\\`
 * escaped; the key is what the quotes hold. Most clients send the key bare,
 * and that is taken as it is when it has no spaces or quotes (visible ASCII), so
 * `abc` and `"abc"` are the same key.
 */
export function parseIdempotencyKey(header: string): string {
  const quoted = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(header);
  let key = '';
  if (quoted) key = quoted[1]!.replace(/\\(["\\])/g, '$1');
  else if (/^[\x21\x23-\x7e]+$/.test(header)) key = header;
  if (key.length === 0 || key.length > MAX_KEY) {
    throw new InputError(
      'INVALID_IDEMPOTENCY_KEY',
      `Idempotency-Key: a quoted string of 1-${MAX_KEY} printable ASCII characters (spaces allowed; \\" and \\\\ escaped), ` +
        `or 1-${MAX_KEY} visible ASCII characters without quotes or spaces`,
      { details: { max_length: MAX_KEY } },
    );
  }
  return key;
}

/**
 * The key that request ids are derived with: a subkey of the deployment's
 * callback-signing-key (every deployment has it: stack.yml names it, `clipseek
 * up` generates it), so the signing key itself is used for one thing only.
 */
export function requestIdKeyFrom(secret: string): string {
  return createHmac('sha256', secret).update('clipseek request ids v1').digest('hex');
}

/**
 * The request id: the client's request_id; else one derived from the
 * Idempotency-Key; else one derived from the gateway's X-Call-Id, which an
 * async call keeps when the queue-worker delivers it again (after ack_wait),
 * so a redelivered call finds its request instead of starting a second run;
 * else a new one.
 *
 * A derived id is an HMAC of the key under the deployment's `idKey`: nobody
 * who lacks it can compute the id a key will get, so nobody can create a
 * request under it first (and a client's request_id cannot take k_/c_ ids:
 * SubmitRequest refuses them). Without an idKey (a stack with no
 * callback-signing-key) it is a plain sha256, still outside the client's
 * namespace. The id depends on the key only, not the body: a repeat with
 * another body must find the first request to be refused (request.digest).
 * Keys are per deployment, or per tenant when `tenant` is given (tenancy.ts):
 * two tenants sending the same Idempotency-Key get unrelated requests.
 */
export function requestIdFor(
  body: SubmitRequest,
  from: { idempotencyKey?: string | undefined; callId?: string | undefined },
  idKey: string | undefined,
  tenant?: string,
): { id: string; by: IdSource | undefined } {
  if (body.request_id) return { id: body.request_id, by: 'request_id' };
  if (from.idempotencyKey) {
    return {
      id: derive(DERIVED_ID_PREFIX.idempotencyKey, from.idempotencyKey, idKey, tenant),
      by: 'Idempotency-Key',
    };
  }
  if (from.callId)
    return { id: derive(DERIVED_ID_PREFIX.callId, from.callId, idKey, tenant), by: 'X-Call-Id' };
  return { id: `r_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`, by: undefined };
}

function derive(prefix: string, key: string, idKey: string | undefined, tenant: string | undefined): string {
  // The prefix is in the hashed text too: a key and a call id spelled alike get unrelated ids.
  // A tenant's ids are derived from its namespace too (a slug: no newline in it).
  const text = tenant === undefined ? `${prefix}${key}` : `${tenant}\n${prefix}${key}`;
  const mac = idKey ? createHmac('sha256', idKey).update(text) : createHash('sha256').update(text);
  return `${prefix}${mac.digest('hex').slice(0, 32)}`;
}
