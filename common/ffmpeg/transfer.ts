import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../storage/types.js';

/**
 * Moving stage files between the object store and the local temp dir where
 * ffmpeg works: ffmpeg only ever sees local files (no network protocols).
 */

/** Streams the object at `key` into the local file `path`. */
export async function downloadObject(
  store: ObjectStore,
  key: string,
  path: string,
  signal?: AbortSignal,
): Promise<void> {
  const body = await store.getStream(key);
  await pipeline(body, createWriteStream(path), signal ? { signal } : {});
}

/** Uploads the local file `path` to `key`. */
export async function uploadFile(
  store: ObjectStore,
  key: string,
  path: string,
  contentType: string,
): Promise<void> {
  await store.put(key, createReadStream(path), { contentType });
}

export const CONTENT_TYPES = {
  wav: 'audio/wav',
  mp4: 'video/mp4',
  mkv: 'video/x-matroska',
  mov: 'video/quicktime',
  jpeg: 'image/jpeg',
} as const;
