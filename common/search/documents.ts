import pLimit from 'p-limit';
import { type SkippedDocument, VideoIndexDocument } from '../contracts/video-index.js';
import { CorruptDataError, NotFoundError } from '../errors.js';
import { videoIndexKeys } from '../keys.js';
import type { ObjectInfo, ObjectStore } from '../storage/types.js';

/** What one video index document may weigh before search skips it unread. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 32 * 1024 ** 2;

export interface ReadOptions {
  /** Videos by sha256, name or URI; absent: every video of the namespace. */
  videos?: readonly string[] | undefined;
  maxDocumentBytes?: number | undefined;
  /** Told of each document that is skipped (a search goes on without it). */
  onSkip?: ((skipped: SkippedDocument) => void) | undefined;
}

export interface IndexedVideo {
  /** The analysis search uses: the best coverage, the newest of those. */
  doc: VideoIndexDocument;
  key: string;
  /** How many usable analyses the video has. */
  analyses: number;
}

/** Documents read at once. */
const READ_CONCURRENCY = 8;

/**
 * Visits the analysed videos of a namespace, one analysis each, from the video
 * index documents alone: one listing, then one read per document of the
 * videos wanted, a few at a time, each document let go once visited (so
 * memory holds a few documents, not the index). A document that is too
 * large, unreadable, breaks its schema or sits under a key that is not its
 * own is skipped, never fatal: one bad document does not hide the others.
 * Returns what was skipped.
 */
export async function eachVideo(
  store: ObjectStore,
  namespace: string,
  options: ReadOptions,
  visit: (video: IndexedVideo) => void,
): Promise<SkippedDocument[]> {
  const keys = videoIndexKeys(namespace);
  const maxBytes = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const skipped: SkippedDocument[] = [];
  const skip = (key: string, code: string, message: string) => {
    const s = { key, code, message };
    skipped.push(s);
    options.onSkip?.(s);
  };
  const bySha = new Map<string, ObjectInfo[]>();
  for await (const info of store.listAll(keys.prefix)) {
    const named = keys.parse(info.key);
    if (!named) {
      skip(info.key, 'INDEX_KEY_INVALID', 'not <sha256>/<analysis>.json');
      continue;
    }
    bySha.set(named.sha256, [...(bySha.get(named.sha256) ?? []), info]);
  }
  // Names and URIs are inside the documents; a list of sha256s needs only those videos read.
  const wanted = options.videos;
  const byShaOnly = wanted?.every((v) => SHA256.test(v)) === true;
  const candidates = [...bySha].filter(([sha]) => !byShaOnly || wanted.includes(sha));

  const read = async (info: ObjectInfo): Promise<VideoIndexDocument | undefined> => {
    if (info.size > maxBytes) {
      skip(info.key, 'INDEX_DOCUMENT_TOO_LARGE', `${info.size} bytes, over the ${maxBytes} read at most`);
      return undefined;
    }
    let value: unknown;
    try {
      value = (await store.getJson(info.key)).value;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined; // deleted since the listing
      if (!(err instanceof CorruptDataError)) throw err;
      skip(info.key, 'INDEX_DOCUMENT_CORRUPT', 'not JSON');
      return undefined;
    }
    const parsed = VideoIndexDocument.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      skip(info.key, 'INDEX_DOCUMENT_INVALID', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
      return undefined;
    }
    const doc = parsed.data;
    if (doc.namespace !== namespace || keys.document(doc.video.sha256, doc.analysis) !== info.key) {
      skip(info.key, 'INDEX_DOCUMENT_MISPLACED', 'its namespace, video or analysis is not its key’s');
      return undefined;
    }
    return doc;
  };
  const limit = pLimit(READ_CONCURRENCY);
  await Promise.all(
    candidates.map(([, infos]) =>
      limit(async () => {
        let best: VideoIndexDocument | undefined;
        let analyses = 0;
        for (const info of infos) {
          const doc = await read(info);
          if (!doc) continue;
          analyses += 1;
          if (!best || better(doc, best)) best = doc;
        }
        if (!best || (wanted && !byShaOnly && !names(best).some((n) => wanted.includes(n)))) return;
        visit({ doc: best, key: keys.document(best.video.sha256, best.analysis), analyses });
      }),
    ),
  );
  return skipped;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The analysis a video is searched by: the best coverage, then the newest. */
function better(a: VideoIndexDocument, b: VideoIndexDocument): boolean {
  return (
    a.coverage.ratio - b.coverage.ratio > 0 ||
    (a.coverage.ratio === b.coverage.ratio && a.created_at > b.created_at)
  );
}

/** What a caller may name a video by. */
export function names(doc: VideoIndexDocument): string[] {
  return [doc.video.sha256, doc.video.name, doc.video.uri];
}
