import type { FinalResult } from '../common/contracts/final.js';
import type { ObjectStore } from '../common/storage/types.js';
import type { ReportMedia } from './report.js';

export interface CollectOptions {
  /** Embed objects as data: URLs up to this many bytes in total; the rest are linked. Default 64 MiB. */
  maxEmbedBytes?: number;
  /** Link everything instead of embedding (file:// for the folder store, presigned for S3). */
  link?: boolean;
}

const TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

/**
 * Fetches what the report shows — the matches' thumbnails and clips first,
 * in rank order, then every clip's thumbnail — as data: URLs, so the page is
 * one self-contained file. Past the byte budget, objects are linked instead.
 */
export async function collectMedia(
  store: ObjectStore,
  final: FinalResult,
  options: CollectOptions = {},
): Promise<ReportMedia> {
  const budget = options.maxEmbedBytes ?? 64 * 1024 * 1024;
  const wanted = [
    ...final.matches.flatMap((m) => [m.thumbnail_key, m.video_keys[0]]),
    ...final.clip_list.map((c) => c.thumbnail_key),
  ].filter((k): k is string => k !== undefined);
  const urls = new Map<string, string>();
  let used = 0;
  for (const key of new Set(wanted)) {
    const info = await store.head(key);
    if (!info) continue; // a failed clip may lack its outputs: leave it out
    const type = TYPES[key.slice(key.lastIndexOf('.') + 1).toLowerCase()];
    if (!options.link && type && used + info.size <= budget) {
      const bytes = await store.getBytes(key);
      used += bytes.length;
      urls.set(key, `data:${type};base64,${bytes.toString('base64')}`);
    } else {
      urls.set(key, await store.urlFor(key, { expiresInSeconds: 7 * 24 * 3600 }));
    }
  }
  return { url: (key) => urls.get(key) };
}
