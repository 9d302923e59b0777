import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { readSecret, SECRETS_DIR } from '../config.js';
import { ClipseekError } from '../errors.js';
import { FolderStore, type FolderStoreOptions } from './folder-store.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';
import type { ObjectStore } from './types.js';

export { FolderStore, type FolderStoreOptions } from './folder-store.js';
export { assertValidKey, assertValidPrefix } from './keys.js';
export { S3Store, type S3StoreOptions } from './s3-store.js';
export type * from './types.js';

export interface CreateStoreOptions {
  /** Where AWS_REGION and secret fallbacks are read from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** OpenFaaS secrets folder (s3-access-key, s3-secret-key). Default /var/openfaas/secrets. */
  secretsDir?: string;
  /** Use this S3 client instead of building one (tests). */
  s3Client?: S3Client;
  folder?: FolderStoreOptions;
}

const S3_PARAMS = new Set(['endpoint', 'region', 'path_style', 'max_attempts']);

/**
 * The one storage setting, e.g.
 *   file:///data/bucket   or   /data/bucket          → FolderStore
 *   s3://bucket?endpoint=http://127.0.0.1:9000&region=us-east-1&path_style=true → S3Store
 * S3 credentials: secrets `s3-access-key` + `s3-secret-key` (files, or env
 * S3_ACCESS_KEY / S3_SECRET_KEY); otherwise the AWS SDK's default chain
 * (AWS_ACCESS_KEY_ID, …). A bad URL is ClipseekError INVALID_CONFIG.
 */
export function createStore(url: string, options: CreateStoreOptions = {}): ObjectStore {
  const trimmed = url.trim();
  if (trimmed === '') throw invalid(url, 'empty storage URL');
  if (trimmed.startsWith('s3://')) return new S3Store(s3Options(trimmed, options));
  if (trimmed.startsWith('file:')) return new FolderStore(filePath(trimmed), options.folder);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed))
    throw invalid(url, 'unsupported scheme (use file:// or s3://)');
  return new FolderStore(resolve(trimmed), options.folder);
}

/** STORAGE_URL from the environment (or `fallback`); INVALID_CONFIG when neither is set. */
export function storageUrlFromEnv(env: NodeJS.ProcessEnv = process.env, fallback?: string): string {
  const value = env.STORAGE_URL?.trim();
  if (value) return value;
  if (fallback !== undefined) return fallback;
  throw new ClipseekError(
    'INVALID_CONFIG',
    'STORAGE_URL is not set (file:///path/to/bucket or s3://bucket?…)',
    {
      details: { variable: 'STORAGE_URL' },
    },
  );
}

function filePath(url: string): string {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (err) {
    throw invalid(url, 'not a valid file:// URL (it needs an absolute path: file:///abs/path)', err);
  }
  if (!isAbsolute(path)) throw invalid(url, 'file:// URL must name an absolute path');
  return path;
}

function s3Options(url: string, options: CreateStoreOptions): S3StoreOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw invalid(url, 'not a valid s3:// URL', err);
  }
  const bucket = parsed.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw invalid(url, 'bad bucket name');
  if (parsed.pathname !== '' && parsed.pathname !== '/')
    throw invalid(url, 'key prefixes in the URL are not supported');
  if (parsed.username || parsed.password)
    throw invalid(url, 'credentials do not belong in the URL; use secrets');
  for (const name of parsed.searchParams.keys()) {
    if (!S3_PARAMS.has(name)) throw invalid(url, `unknown parameter '${name}'`);
  }
  const q = parsed.searchParams;
  const endpoint = q.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint))
    throw invalid(url, 'endpoint must be http(s)://host[:port]');
  const env = options.env ?? process.env;
  const credentials = secretCredentials(env, options.secretsDir ?? SECRETS_DIR);
  const maxAttempts = q.get('max_attempts');
  return {
    bucket,
    // Redacted of nothing: the URL holds no secrets (rejected above).
    url,
    ...(options.s3Client === undefined ? {} : { client: options.s3Client }),
    ...(endpoint === undefined ? {} : { endpoint }),
    region: q.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // A custom endpoint is nearly always MinIO-like, which wants path-style.
    forcePathStyle: parseBool(url, q.get('path_style')) ?? endpoint !== undefined,
    ...(credentials === undefined ? {} : { credentials }),
    ...(maxAttempts === null ? {} : { maxAttempts: parseAttempts(url, maxAttempts) }),
  };
}

function secretCredentials(env: NodeJS.ProcessEnv, dir: string) {
  const accessKeyId = readSecret('s3-access-key', env, dir);
  const secretAccessKey = readSecret('s3-secret-key', env, dir);
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new ClipseekError('INVALID_CONFIG', 's3-access-key and s3-secret-key must be given together', {
      details: { secrets: ['s3-access-key', 's3-secret-key'] },
    });
  }
  return { accessKeyId, secretAccessKey };
}

function parseBool(url: string, value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalid(url, `path_style must be true or false, not '${value}'`);
}

function parseAttempts(url: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10) throw invalid(url, 'max_attempts must be an integer 1..10');
  return n;
}

function invalid(url: string, reason: string, cause?: unknown): ClipseekError {
  return new ClipseekError('INVALID_CONFIG', `invalid STORAGE_URL: ${reason}`, {
    details: { url },
    ...(cause === undefined ? {} : { cause }),
  });
}
