import { createHash } from 'node:crypto';
import { VideoIndexDocument } from '../../common/contracts/video-index.js';
import { videoIndexKeys } from '../../common/keys.js';
import { type ClipEvidence, COCO_LABELS } from '../../common/matching/index.js';
import { indexedClip } from '../../common/search/clips.js';
import type { ObjectStore } from '../../common/storage/types.js';

/**
 * Video index documents made up for tests and the search bench: what an
 * analysis would have written, without media. Frames are sampled at 1 fps.
 */
export interface ClipSpec {
  start: number;
  end: number;
  /** Labels seen on every frame of the clip, with their score. */
  labels?: Record<string, number>;
  /** Words heard, spread evenly over the clip. */
  words?: string[];
}

export interface DocSpec {
  name: string;
  clips: ClipSpec[];
  namespace?: string;
  /** Default: sha256 of the name. */
  sha256?: string;
  created_at?: string;
  /** Seconds of the video no clip covers, at its end (a failed clip). */
  unanalysedS?: number;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

export function indexDocument(spec: DocSpec): VideoIndexDocument {
  const namespace = spec.namespace ?? 'default';
  const sha256 = spec.sha256 ?? sha(spec.name);
  const created = spec.created_at ?? '2026-11-25T10:00:00.000Z';
  const analysed = spec.clips.reduce((s, c) => s + c.end - c.start, 0);
  const duration = Math.max(0, ...spec.clips.map((c) => c.end)) + (spec.unanalysedS ?? 0);
  return VideoIndexDocument.parse({
    schema_version: 1,
    namespace,
    analysis: sha(`${sha256}/${created}/${analysed}`),
    video: {
      name: spec.name,
      uri: `store://uploads/${spec.name}`,
      sha256,
      duration_s: duration,
      size_bytes: 1000,
    },
    profile: 'default',
    frame_interval_s: 1,
    created_at: created,
    request_id: requestIdOf(spec),
    coverage: {
      duration_s: duration,
      analysed_s: analysed,
      ratio: duration > 0 ? Math.round((analysed / duration) * 1000) / 1000 : 0,
      unanalysed: spec.unanalysedS ? [[duration - spec.unanalysedS, duration]] : [],
    },
    stored_bytes: 12_345,
    results: [`requests/${requestIdOf(spec)}/cut-clips`],
    clips: specEvidence(spec).map(indexedClip),
  });
}

const requestIdOf = (spec: DocSpec) => `r_${(spec.sha256 ?? sha(spec.name)).slice(0, 8)}`;

/** The evidence of the clips of `spec`, as a request's assembly reads it from the manifests. */
export function specEvidence(spec: DocSpec): ClipEvidence[] {
  const root = `requests/${requestIdOf(spec)}`;
  return spec.clips.map((c, clip) => {
    const length = c.end - c.start;
    const frames = Array.from({ length: Math.max(1, Math.floor(length)) }, (_, t) => ({
      key: `${root}/sample-frames/${clip}/frame-${String(t + 1).padStart(5, '0')}.jpg`,
      t,
    }));
    const labels = Object.entries(c.labels ?? {});
    const words = c.words ?? [];
    return {
      clip,
      start: c.start,
      end: c.end,
      transcript: words.join(' '),
      words: words.map((word, i) => {
        const start = (i * length) / words.length;
        return { word, start, end: Math.min(length, start + 0.4) };
      }),
      labels: labels.map(([label, score]) => ({
        label,
        best_score: score,
        ranges: [[0, length] as [number, number]],
        frames: frames.length,
      })),
      detections: frames.flatMap((f) => labels.map(([label, score]) => ({ t: f.t, label, score }))),
      frames,
      video_key: `${root}/transcode-clip/${clip}/clip.mp4`,
      thumbnail_key: `${root}/sample-frames/${clip}/thumb.jpg`,
    };
  });
}

export async function putIndexDocument(store: ObjectStore, doc: VideoIndexDocument): Promise<string> {
  const key = videoIndexKeys(doc.namespace).document(doc.video.sha256, doc.analysis);
  await store.put(key, JSON.stringify(doc), { contentType: 'application/json' });
  return key;
}

const SPOKEN = [
  'budget',
  'meeting',
  'road',
  'window',
  'coffee',
  'report',
  'train',
  'river',
  'music',
  'garden',
];

/**
 * The `n`th made-up video of `clips` 10 s clips: each clip sees two or three
 * COCO labels and hears a dozen words, drawn from `random` (seeded: the same
 * numbers give the same documents).
 */
export function syntheticDocument(n: number, clips: number, random: () => number): VideoIndexDocument {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return indexDocument({
    name: `video-${String(n).padStart(5, '0')}.mp4`,
    clips: Array.from({ length: clips }, (_, i) => ({
      start: i * 10,
      end: i * 10 + 10,
      labels: Object.fromEntries(
        Array.from({ length: 2 + Math.floor(random() * 2) }, () => [
          pick(COCO_LABELS),
          Math.round((0.3 + random() * 0.7) * 100) / 100,
        ]),
      ),
      words: Array.from({ length: 12 }, () => pick(SPOKEN)),
    })),
  });
}
