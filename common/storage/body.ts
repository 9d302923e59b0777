import { Readable } from 'node:stream';
import { CorruptDataError } from '../errors.js';
import type { Body } from './types.js';

/** Buffers and strings become one Buffer; streams stay streams. */
export function normalizeBody(body: Body): Buffer | Readable {
  if (body instanceof Readable) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** A stored object that should be JSON but is not: a bug or corruption, not bad caller input. */
export function parseStoredJson<T>(key: string, bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new CorruptDataError('INVALID_STORED_JSON', `object is not valid JSON: ${key}`, {
      status: 500,
      details: { key },
      cause: err,
    });
  }
}
