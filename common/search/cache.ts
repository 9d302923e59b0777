import type { IndexedClip, VideoIndexDocument } from '../contracts/video-index.js';
import { type WordStems, wordStems } from '../matching/index.js';
import type { ObjectInfo } from '../storage/types.js';

/** A video index document without its clips: what listing and choosing analyses read. */
export type IndexHead = Omit<VideoIndexDocument, 'clips'>;

/** What an analysis holds for a query to find: the labels seen, the stems of the words heard. */
export interface Vocabulary {
  labels: ReadonlySet<string>;
  stems: ReadonlySet<string>;
}

/** One checked document as the cache holds it: its head and vocabulary, its clips as JSON text. */
export interface CachedDocument {
  head: IndexHead;
  clipCount: number;
  vocabulary: Vocabulary;
  /** The clips, parsed on demand: a few bytes a character, where parsed clips take ~4× the JSON. */
  clipsJson: Buffer;
  etag: string;
}

export function vocabularyOf(clips: readonly IndexedClip[], stems: WordStems = wordStems): Vocabulary {
  const labels = new Set<string>();
  const heard = new Set<string>();
  for (const c of clips) {
    for (const l of c.labels) labels.add(l.label);
    for (const [w] of c.words) for (const s of stems(w)) heard.add(s);
  }
  return { labels, stems: heard };
}

/**
 * Video index documents a long-lived process (the orchestrator) has read and
 * checked, by key and ETag, so a search reads, parses and checks only what
 * changed since the last one; a query whose labels and stems a video's
 * vocabulary lacks does not even parse its clips. Holds at most `maxBytes`
 * (JSON bytes plus an estimate of head and vocabulary). Admits documents
 * while there is room and keeps them while unchanged: every search visits
 * every document, so evicting the oldest for the newest would make each
 * search miss them all once the index outgrows the budget.
 */
export class DocumentCache {
  private readonly entries = new Map<string, CachedDocument & { bytes: number }>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  /** The document as listed, if it is held at that ETag; a changed one is dropped. */
  get(info: ObjectInfo): CachedDocument | undefined {
    const entry = this.entries.get(info.key);
    if (entry && entry.etag !== info.etag) this.drop(info.key);
    return entry?.etag === info.etag ? entry : undefined;
  }

  /** Keeps a checked document read at `etag`, if it fits. */
  admit(key: string, etag: string, doc: VideoIndexDocument, stems?: WordStems): void {
    this.drop(key);
    const { clips, ...head } = doc;
    const clipsJson = Buffer.from(JSON.stringify(clips));
    const vocabulary = vocabularyOf(clips, stems);
    let bytes = clipsJson.length + JSON.stringify(head).length + HEAD_OVERHEAD_BYTES;
    for (const s of [...vocabulary.labels, ...vocabulary.stems]) bytes += s.length + SET_ENTRY_BYTES;
    if (this.held + bytes > this.maxBytes) return;
    this.entries.set(key, { head, clipCount: clips.length, vocabulary, clipsJson, etag, bytes });
    this.held += bytes;
  }

  /** Drops what a full listing of `prefix` no longer shows (deleted documents). */
  retain(prefix: string, listed: ReadonlySet<string>): void {
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && !listed.has(key)) this.drop(key);
    }
  }

  /** Bytes held, by the estimate the budget is checked against. */
  get bytes(): number {
    return this.held;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.held -= entry.bytes;
  }
}

/** Rough heap cost of an entry's objects and of one string in a Set. */
const HEAD_OVERHEAD_BYTES = 1024;
const SET_ENTRY_BYTES = 48;
