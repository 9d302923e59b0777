import { z } from 'zod';
import { ClipIndex, Coverage, IsoTime, Namespace, ObjectKey, RequestId, Seconds } from './common.js';
import { Match, UnderstoodQuery } from './final.js';
import { LabelEvidence } from './stages.js';

const Score = z.number().min(0).max(1);

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex');

/** The video an analysis is of: what an answer names. */
export const VideoFacts = z.object({
  /** The source's file name, for people. */
  name: z.string().max(1024),
  /** The URI the source was submitted as. */
  uri: z.string().max(2048),
  sha256: Sha256,
  duration_s: Seconds,
  size_bytes: z.number().int().nonnegative(),
});
export type VideoFacts = z.infer<typeof VideoFacts>;

/** A folder of the bucket ("a/b/"), or nothing. */
const FramesPrefix = z
  .string()
  .max(700)
  .refine(
    (p) => p === '' || (p.endsWith('/') && ObjectKey.safeParse(p.slice(0, -1)).success),
    'not a folder of the bucket',
  );
/** The rest of a frame's key: plain path segments, none of them "." or "..". */
const FrameName = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/, 'not a plain file name');

/**
 * One analysed clip: what matching reads (ClipEvidence), written compactly, as
 * tuples. Times are clip-relative, as the stages write them.
 */
export const IndexedClip = z
  .object({
    clip: ClipIndex,
    /** Source seconds. */
    start: Seconds,
    end: Seconds,
    transcript: z.string(),
    /** [word, start, end] */
    words: z.array(z.tuple([z.string().min(1), Seconds, Seconds])),
    /** Each label seen, with its best score per sampled frame: [t, score] (the detections, without boxes). */
    labels: z.array(LabelEvidence.extend({ seen: z.array(z.tuple([Seconds, Score])) })),
    /** The sampled frames: [key after `frames_prefix`, t]. Both parts are checked, so every key they make is one. */
    frames_prefix: FramesPrefix,
    frames: z.array(z.tuple([FrameName, Seconds])),
    video_key: ObjectKey.optional(),
    thumbnail_key: ObjectKey.optional(),
  })
  .refine((c) => c.start <= c.end, 'clip start after end');
export type IndexedClip = z.infer<typeof IndexedClip>;

/**
 * The compact document of one analysis of one video
 * (index/videos/<namespace>/<sha256>/<analysis>.json), written when a request
 * finishes with analysed clips. It is the evidence a request's final.json is
 * ranked from, so a search answers exactly as a request on the same video would.
 */
export const VideoIndexDocument = z.object({
  schema_version: z.literal(1),
  namespace: Namespace,
  /** sha256 of the analysis' task results: the same video with the same settings gives the same one. */
  analysis: Sha256,
  video: VideoFacts,
  profile: z.string().max(64),
  /** Seconds between sampled frames (1 / frames.fps): how far a detection reaches in time. */
  frame_interval_s: Seconds.positive(),
  created_at: IsoTime,
  /** The request that wrote it. */
  request_id: RequestId,
  coverage: Coverage,
  /** Bytes the source and these results held in the bucket when it was written. */
  stored_bytes: z.number().int().nonnegative(),
  /** The result folders it was built from (for gc). */
  results: z.array(ObjectKey),
  /** The analysed clips (failed clips are left out; `coverage` names their time). */
  clips: z.array(IndexedClip),
});
export type VideoIndexDocument = z.infer<typeof VideoIndexDocument>;

/** One answer of a search: a request's match, and the video it is in. */
export const SearchMatch = Match.extend({
  video: VideoFacts.pick({ name: true, uri: true, sha256: true, duration_s: true }),
  analysis: Sha256,
});
export type SearchMatch = z.infer<typeof SearchMatch>;

/** A video index document the search could not use, and why. */
export const SkippedDocument = z.object({ key: z.string(), code: z.string(), message: z.string() });
export type SkippedDocument = z.infer<typeof SkippedDocument>;

/** The answer to `{"search": …}` and `clipseek search --json`. */
export const SearchResult = z.object({
  query: z.string(),
  namespace: Namespace,
  understood: UnderstoodQuery,
  /** How many videos were searched. */
  videos: z.number().int().nonnegative(),
  /** Ranked across videos, best first. */
  matches: z.array(SearchMatch),
  skipped: z.array(SkippedDocument),
});
export type SearchResult = z.infer<typeof SearchResult>;
