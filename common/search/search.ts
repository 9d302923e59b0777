import type { UnderstoodQuery } from '../contracts/final.js';
import type { SearchMatch, SearchResult } from '../contracts/video-index.js';
import { NotFoundError } from '../errors.js';
import {
  compareMatches,
  normalizeWords,
  rankRanges,
  rememberedWordStems,
  stem,
  understandQuery,
  type WordStems,
} from '../matching/index.js';
import type { ObjectStore } from '../storage/types.js';
import { clipEvidence } from './clips.js';
import { eachVideo, type IndexedVideo, names, type ReadOptions } from './documents.js';

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
  const wanted = wantedEvidence(understood);
  const stems = rememberedWordStems(MAX_REMEMBERED_WORDS);
  const found = new Set<string>();
  let best: SearchMatch[] = [];
  let videos = 0;
  const skipped = await eachVideo(store, namespace, options, (indexed) => {
    const { doc } = indexed;
    const video = {
      name: doc.video.name,
      uri: doc.video.uri,
      sha256: doc.video.sha256,
      duration_s: doc.video.duration_s,
    };
    videos += 1;
    for (const n of names(doc)) found.add(n);
    // A video with none of the query's labels or words has no answer: not worth ranking.
    if (!holdsAny(indexed, wanted, stems)) return;
    const ranked = rankRanges(
      understood,
      indexed.clips().map((c) => clipEvidence(c, wanted.labels)),
      { frameIntervalS: doc.frame_interval_s, stems },
    );
    const answers = ranked.slice(0, options.limit).map((m) => ({ ...m, video, analysis: doc.analysis }));
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

/** Distinct transcript words a search remembers the stems of (a few thousand in practice). */
const MAX_REMEMBERED_WORDS = 100_000;

/** What a video must hold for the query to find anything in it: one of these labels, or a word with one of these stems. */
interface Wanted {
  labels: ReadonlySet<string>;
  stems: ReadonlySet<string>;
}

function wantedEvidence(understood: UnderstoodQuery): Wanted {
  return {
    labels: new Set(understood.labels),
    stems: new Set([
      ...understood.terms.map(stem),
      ...understood.phrases.flatMap((p) => normalizeWords(p).map(stem)),
    ]),
  };
}

function holdsAny(video: IndexedVideo, wanted: Wanted, stems: WordStems): boolean {
  const known = video.vocabulary;
  if (known) {
    return (
      [...wanted.labels].some((l) => known.labels.has(l)) || [...wanted.stems].some((s) => known.stems.has(s))
    );
  }
  return video
    .clips()
    .some(
      (c) =>
        c.labels.some((l) => wanted.labels.has(l.label)) ||
        (wanted.stems.size > 0 && c.words.some(([w]) => stems(w).some((s) => wanted.stems.has(s)))),
    );
}

/** Ranked as one request's matches are; a tie across videos goes by video, so the order never depends on read order. */
function compareAcross(a: SearchMatch, b: SearchMatch): number {
  return compareMatches(a, b) || a.video.sha256.localeCompare(b.video.sha256);
}
