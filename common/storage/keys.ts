import { InputError } from '../errors.js';

const MAX_KEY_BYTES = 1024;
// Printable ASCII without backslash and control characters: portable across S3,
// MinIO and every file system the folder store may sit on.
const SAFE_KEY = /^[A-Za-z0-9._\-/=+,@~!()]+$/;

/** Throws InputError(INVALID_KEY) unless `key` is a safe relative object key. */
export function assertValidKey(key: string): string {
  const reason = invalidKeyReason(key);
  if (reason) throw new InputError('INVALID_KEY', `invalid object key: ${reason}`, { details: { key } });
  return key;
}

/** Whether `key` is a safe relative object key (assertValidKey would accept it). */
export function isValidKey(key: string): boolean {
  return invalidKeyReason(key) === undefined;
}

function invalidKeyReason(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'empty';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return 'too long';
  if (key.startsWith('/')) return 'absolute path';
  if (!SAFE_KEY.test(key)) return 'unsupported characters';
  const segments = key.split('/');
  if (segments.some((s) => s === '')) return 'empty segment';
  if (segments.some((s) => s === '.' || s === '..')) return 'dot segment';
  return undefined;
}

/** A list prefix may be empty or end with '/', but is otherwise a key. */
export function assertValidPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** A request id is one safe key segment. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/;
