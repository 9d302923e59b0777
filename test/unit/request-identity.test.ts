import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DERIVED_ID_PREFIX, SubmitRequest } from '../../common/contracts/request.js';
import { requestDigest } from '../../common/request-digest.js';
import {
  parseIdempotencyKey,
  requestIdFor,
  requestIdKeyFrom,
} from '../../functions/orchestrator/request-identity.js';

const body = SubmitRequest.parse({ video_uri: 'store://uploads/a.mp4', query: 'find the car' });
const KEY = requestIdKeyFrom('deployment-secret');
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

describe('requestIdFor', () => {
  it.each([
    {
      name: 'request_id wins over a key and a call id',
      body: { ...body, request_id: 'mine-1' },
      from: { idempotencyKey: 'k1', callId: 'c1' },
      id: /^mine-1$/,
      by: 'request_id',
    },
    {
      name: 'a key',
      body,
      from: { idempotencyKey: 'k1', callId: 'c1' },
      id: /^k_[0-9a-f]{32}$/,
      by: 'Idempotency-Key',
    },
    { name: 'a call id', body, from: { callId: 'c1' }, id: /^c_[0-9a-f]{32}$/, by: 'X-Call-Id' },
    { name: 'nothing: a new id', body, from: {}, id: /^r_[0-9a-z]+[0-9a-f]{12}$/, by: undefined },
  ])('$name', ({ body, from, id, by }) => {
    const got = requestIdFor(body, from, KEY);
    expect(got.id).toMatch(id);
    expect(got.by).toBe(by);
  });

  it('derives the same id for the same key, and ids nobody can compute without the deployment key', () => {
    const key = 'order-17';
    const id = requestIdFor(body, { idempotencyKey: key }, KEY).id;
    expect(requestIdFor({ ...body, query: 'another body' }, { idempotencyKey: key }, KEY).id).toBe(id);
    // Not the plain hash anyone could compute from the key (today's k_ + sha256(key)) ...
    expect(id).not.toBe(`k_${sha(key)}`);
    expect(id).not.toBe(`k_${sha(`k_${key}`)}`);
    // ... but one that changes with the deployment's secret.
    expect(requestIdFor(body, { idempotencyKey: key }, requestIdKeyFrom('other-secret')).id).not.toBe(id);
    const callId = requestIdFor(body, { callId: 'call-1' }, KEY).id;
    expect(callId).not.toBe(`c_${sha('call-1')}`);
    expect(requestIdFor(body, { callId: 'call-1' }, requestIdKeyFrom('other-secret')).id).not.toBe(callId);
  });

  it('gives a key and a call id spelled alike unrelated ids', () => {
    for (const idKey of [KEY, undefined]) {
      const k = requestIdFor(body, { idempotencyKey: 'same-text' }, idKey).id;
      const c = requestIdFor(body, { callId: 'same-text' }, idKey).id;
      expect(k.slice(2)).not.toBe(c.slice(2));
    }
  });

  it('two new ids differ', () => {
    expect(requestIdFor(body, {}, KEY).id).not.toBe(requestIdFor(body, {}, KEY).id);
  });

  it('the subkey is not the secret it comes from', () => {
    expect(requestIdKeyFrom('deployment-secret')).not.toContain('deployment-secret');
    expect(requestIdKeyFrom('deployment-secret')).toBe(KEY);
  });
});

describe('a client request_id', () => {
  it.each([
    ['k_0123456789abcdef0123456789abcdef', false],
    ['c_0123456789abcdef0123456789abcdef', false],
    ['K_0123456789abcdef0123456789abcdef', false],
    ['C_anything', false],
    ['kc_fine', true],
    ['ck-fine', true],
    ['r_mine', true],
    ['order-17', true],
  ])('%s allowed: %s', (id, allowed) => {
    expect(SubmitRequest.safeParse({ ...body, request_id: id }).success).toBe(allowed);
  });

  it('can never be an id the orchestrator derives, with or without a deployment key', () => {
    const derived = [KEY, undefined].flatMap((idKey) => [
      requestIdFor(body, { idempotencyKey: 'x' }, idKey).id,
      requestIdFor(body, { callId: 'x' }, idKey).id,
    ]);
    for (const id of derived)
      expect(SubmitRequest.safeParse({ ...body, request_id: id }).success).toBe(false);
    // The contract's pattern covers every prefix the orchestrator uses.
    for (const prefix of Object.values(DERIVED_ID_PREFIX))
      expect(SubmitRequest.safeParse({ ...body, request_id: `${prefix}abc` }).success).toBe(false);
  });
});

describe('requestDigest', () => {
  const digest = requestDigest(body);

  it('is the same for the same request, however it was written', () => {
    const reordered = SubmitRequest.parse({
      query: 'find the car',
      profile: 'default',
      video_uri: 'store://uploads/a.mp4',
    });
    expect(requestDigest(reordered)).toBe(digest);
    // The id and the key name the request; they are not part of it.
    expect(requestDigest({ ...body, request_id: 'mine-1' })).toBe(digest);
    const withOverrides = (o: unknown) => requestDigest(SubmitRequest.parse({ ...body, overrides: o }));
    expect(withOverrides({ frames: { fps: 2, max_width: 640 } })).toBe(
      withOverrides({ frames: { max_width: 640, fps: 2 } }),
    );
  });

  it.each([
    ['video_uri', { video_uri: 'store://uploads/b.mp4' }],
    ['query', { query: 'find the dog' }],
    ['profile', { profile: 'fast' }],
    ['overrides', { overrides: { frames: { fps: 2 } } }],
    ['callback_url', { callback_url: 'http://127.0.0.1:9/hook' }],
  ])('changes with %s', (_field, change) => {
    expect(requestDigest(SubmitRequest.parse({ ...body, ...change }))).not.toBe(digest);
  });
});

describe('the Idempotency-Key header', () => {
  it("takes the IETF draft's quoted string, spaces and escapes included, and a bare key as sent", () => {
    expect(parseIdempotencyKey('"order 42"')).toBe('order 42');
    expect(parseIdempotencyKey('"say \\"hi\\" \\\\ bye"')).toBe('say "hi" \\ bye');
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    // The same key, quoted or not.
    expect(parseIdempotencyKey('"abc"')).toBe(parseIdempotencyKey('abc'));
    expect(parseIdempotencyKey(`"${'k'.repeat(200)}"`)).toHaveLength(200);
  });

  it('refuses what its message says it refuses, with INVALID_IDEMPOTENCY_KEY', () => {
    for (const bad of [
      '',
      '""',
      'order 42',
      'ab"c',
      '"open',
      '"a"b"',
      '"bad \\x"',
      'cl\u00e9',
      'k'.repeat(201),
      `"${'k'.repeat(201)}"`,
    ]) {
      expect(() => parseIdempotencyKey(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({
          code: 'INVALID_IDEMPOTENCY_KEY',
          message: expect.stringMatching(/quoted string .*spaces allowed.*without quotes or spaces/),
        }),
      );
    }
  });
});
