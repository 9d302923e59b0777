import { describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors.js';
import { clipId, requestKeys, resultKeys, resultsPrefix } from '../../common/keys.js';
import { assertValidKey, assertValidPrefix, REQUEST_ID_PATTERN } from '../../common/storage/keys.js';

const VALID = [
  'a',
  'requests/abc-123/input/video.mp4',
  'requests/abc/metadata/state.json',
  'idempotency/key=1,2@x~y!(z).json',
  '.hidden/file',
  'a.b/c..d/e...',
  'x'.repeat(1024),
];

const INVALID: Array<[string, string]> = [
  ['', 'empty'],
  ['/abs', 'absolute'],
  ['a/../b', 'dot-dot segment'],
  ['..', 'dot-dot alone'],
  ['../a', 'leading dot-dot'],
  ['a/..', 'trailing dot-dot'],
  ['./a', 'dot segment'],
  ['a/./b', 'inner dot segment'],
  ['a//b', 'empty segment'],
  ['a/', 'trailing slash'],
  ['a\\b', 'backslash'],
  ['a b', 'space'],
  ['a\nb', 'newline'],
  ['a\u0000b', 'NUL'],
  ['caf\u00e9', 'non-ASCII'],
  ['a?b', 'query mark'],
  ['a#b', 'hash'],
  ['a%2e%2e', 'percent (no decoding tricks)'],
  ['x'.repeat(1025), 'over 1024 bytes'],
];

describe('assertValidKey', () => {
  it.each(VALID)('accepts %j', (key) => {
    expect(assertValidKey(key)).toBe(key);
  });

  it.each(INVALID)('rejects %j (%s) with InputError INVALID_KEY', (key) => {
    const err = (() => {
      try {
        assertValidKey(key);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'INVALID_KEY', status: 422, retryable: false, details: { key } });
  });

  it('rejects non-strings from untyped callers', () => {
    expect(() => assertValidKey(undefined as unknown as string)).toThrow(InputError);
  });
});

describe('assertValidPrefix', () => {
  it.each(['', 'requests/', 'requests/abc', 'requests/abc/'])('accepts %j', (prefix) => {
    expect(assertValidPrefix(prefix)).toBe(prefix);
  });
  it.each(['/', '../', 'a//', '/abs/', 'a/../'])('rejects %j', (prefix) => {
    expect(() => assertValidPrefix(prefix)).toThrow(InputError);
  });
});

describe('REQUEST_ID_PATTERN', () => {
  it.each(['abc', 'req_2026-01-01', 'A'.repeat(64)])('accepts %j', (id) => {
    expect(REQUEST_ID_PATTERN.test(id)).toBe(true);
  });
  it.each(['ab', '_abc', '-abc', 'a/b', 'a.b', '..', 'A'.repeat(65), 'a b'])('rejects %j', (id) => {
    expect(REQUEST_ID_PATTERN.test(id)).toBe(false);
  });
});

describe('requestKeys', () => {
  const k = requestKeys('req-1');
  it('lays out a request under requests/{id}/ with valid keys', () => {
    expect(k.prefix).toBe('requests/req-1/');
    expect(k.state).toBe('requests/req-1/metadata/state.json');
    expect(k.final).toBe('requests/req-1/metadata/final.json');
    expect(k.input('video.mp4')).toBe('requests/req-1/input/video.mp4');
    for (const key of [k.state, k.final, k.input('a.mp4')]) expect(assertValidKey(key)).toBe(key);
  });
  it("lays out a task's results under results/<ns>/<stage>/<digest>/, apart from any request", () => {
    const r = resultKeys('tenant-a', 'sample-frames', 'd'.repeat(64));
    expect(r.prefix).toBe(`results/tenant-a/sample-frames/${'d'.repeat(64)}/`);
    expect(r.manifest).toBe(`${r.prefix}manifest.json`);
    expect(r.claim).toBe(`${r.prefix}claim.json`);
    expect(r.file('f.jpg')).toBe(`${r.prefix}f.jpg`);
    expect(r.prefix.startsWith(resultsPrefix('tenant-a'))).toBe(true);
    for (const key of [r.manifest, r.claim, r.file('thumb.jpg')]) expect(assertValidKey(key)).toBe(key);
  });
  it('pads clip ids so listings sort in clip order', () => {
    expect([clipId(10), clipId(9), clipId(100)].sort()).toEqual(['0009', '0010', '0100']);
  });
});
