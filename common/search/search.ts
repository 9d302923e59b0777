import type { SearchMatch, SearchResult } from '../contracts/video-index.js';
import { NotFoundError } from '../errors.js';
import { compareMatches, rankRanges, understandQuery } from '../matching/index.js';
import type { ObjectStore } from '../storage/types.js';
import { clipEvidence } from './clips.js';
import { eachVideo, names, type ReadOptions } from './documents.js';

export interface SearchOptions extends ReadOptions {
  /** The best this many answers across every video. */
  limit: number;
}

/**
 * Answers a query from every analysed video of a namespace (or those
 * `videos` names): each video's analysis is ranked as a request on it would
 * rank it (rankRanges over the same evidence), then the answers of all
 * videos are ranked together. Reads only the video index documents, so its
 * cost grows with the number of videos, not with their length. A name in
 * `videos` that no analysed video has is a NotFoundError (VIDEO_NOT_FOUND).
 */
export async function search(
  store: ObjectStore,
  namespace: string,
  query: string,
  options: SearchOptions,
): Promise<SearchResult> {
  const understood = understandQuery(query);
  const found = new Set<string>();
  let best: SearchMatch[] = [];
  let videos = 0;
  const skipped = await eachVideo(store, namespace, options, ({ doc }) => {
    const video = {
      name: doc.video.name,
      uri: doc.video.uri,
      sha256: doc.video.sha256,
      duration_s: doc.video.duration_s,
    };
    const ranked = rankRanges(understood, doc.clips.map(clipEvidence), {
      frameIntervalS: doc.frame_interval_s,
    });
    const answers = ranked.slice(0, options.limit).map((m) => ({ ...m, video, analysis: doc.analysis }));
    videos += 1;
    for (const n of names(doc)) found.add(n);
    // Only the best `limit` are ever kept: memory holds one video's answers beyond them.
    best = [...best, ...answers].sort(compareAcross).slice(0, options.limit);
  });
  const unknown = options.videos?.filter((v) => !found.has(v)) ?? [];
  if (unknown.length > 0) {
    throw new NotFoundError(
      'VIDEO_NOT_FOUND',
      `no analysed video ${unknown.map((v) => `"${v}"`).join(', ')}`,
      {
        details: { namespace, videos: unknown, skipped },
      },
    );
  }
  return { query, namespace, understood, videos, matches: best, skipped };
}

/** Ranked as one request's matches are; a tie across videos goes by video, so the order never depends on read order. */
function compareAcross(a: SearchMatch, b: SearchMatch): number {
  return compareMatches(a, b) || a.video.sha256.localeCompare(b.video.sha256);
}
