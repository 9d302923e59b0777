import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../common/errors.js';
import type { ObjectStore } from '../common/storage/types.js';

export interface Source {
  /** What the request's video_uri is. */
  videoUri: string;
  /** Set for a local file: where it goes in the store. */
  upload?: { path: string; key: string; bytes: number };
}

const URI = /^(store|s3|https?):\/\//i;

/**
 * What a request's video_uri will be, writing nothing yet. A URI (store://,
 * s3://, http(s)://) goes to the orchestrator as it is. A local file goes
 * under uploads/<content hash>/<name> and is named by store:// (uploadSource
 * puts it there), so its video_uri is known before anything is uploaded.
 */
export async function resolveSource(input: string, cwd: string): Promise<Source> {
  if (URI.test(input)) return { videoUri: input };
  const path = resolve(cwd, input);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new InputError(
      'SOURCE_NOT_FOUND',
      `${input}: no such file (or give a store://, s3:// or http(s):// URI)`,
    );
  }
  const key = `uploads/${await sha256Prefix(path)}/${safeName(basename(path))}`;
  return { videoUri: `store://${key}`, upload: { path, key, bytes: info.size } };
}

/** Puts a local source into the store — once: the same bytes are not uploaded twice. */
export async function uploadSource(store: ObjectStore, source: Source): Promise<void> {
  if (!source.upload) return;
  const { path, key, bytes } = source.upload;
  if ((await store.head(key))?.size === bytes) return;
  await store.put(key, createReadStream(path), { contentType: contentType(path) });
}

async function sha256Prefix(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex').slice(0, 16);
}

/** Object keys stay plain: anything unusual in a file name becomes "_". */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return (cleaned || 'video').slice(-100);
}

function contentType(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  const types: Record<string, string> = {
    mp4: 'video/mp4',
    m4v: 'video/mp4',
    mov: 'video/quicktime',
    mkv: 'video/x-matroska',
    webm: 'video/webm',
  };
  return types[ext] ?? 'application/octet-stream';
}
