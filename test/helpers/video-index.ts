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
  return documentOf(spec, specEvidence(spec), 1);
}

/** The document of an analysis whose clips found `evidence`. */
function documentOf(spec: DocSpec, evidence: ClipEvidence[], frameIntervalS: number): VideoIndexDocument {
  const namespace = spec.namespace ?? 'default';
  const sha256 = spec.sha256 ?? sha(spec.name);
  const created = spec.created_at ?? '2026-11-25T10:00:00.000Z';
  const analysed = evidence.reduce((s, c) => s + c.end - c.start, 0);
  const duration = Math.max(0, ...evidence.map((c) => c.end)) + (spec.unanalysedS ?? 0);
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
    frame_interval_s: frameIntervalS,
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
    clips: evidence.map(indexedClip),
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

const VARIED_LABELS = ['person', 'dog', 'car', 'cup', 'bicycle', 'truck'];
const VARIED_WORDS = ['the', 'budget', 'budgets', 'Budgeting', 'red', 'car', 'cars', 'meeting', 'late'];
const VARIED_ODD_WORDS = ['ice-cream', 'ice', 'cream', "don't", 'Road', 'roads', 'café'];

/**
 * A made-up analysis of video `video` with irregular evidence, as real stages
 * give it: clips of uneven length with gaps between some, labels seen in runs
 * of frames with several boxes a frame and tied scores, words in different
 * forms, clips without words or keys. Drawn from `random` (seeded).
 */
export function variedDocument(n: number, random: () => number, video = n): VideoIndexDocument {
  const name = `varied-${video}.mp4`;
  const root = `requests/r_${sha(name).slice(0, 8)}`;
  const interval = random() < 0.5 ? 1 : 0.5;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const clips: ClipEvidence[] = [];
  let start = 0;
  for (let clip = 0; clip < 3 + Math.floor(random() * 6); clip++) {
    const length = 5 + Math.floor(random() * 11);
    const frames = Array.from({ length: Math.floor(length / interval) }, (_, i) => ({
      key: `${root}/sample-frames/${clip}/frame-${String(i + 1).padStart(5, '0')}.jpg`,
      t: i * interval + Math.round(random() * 5) / 1000,
    }));
    const labels: ClipEvidence['labels'][number][] = [];
    const detections: NonNullable<ClipEvidence['detections']>[number][] = [];
    for (const label of VARIED_LABELS.filter(() => random() < 0.4)) {
      const seen = frames.filter((_, i) => Math.floor(i / 3 + random() * 2) % 2 === 0);
      if (seen.length === 0) continue;
      for (const f of seen) {
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          detections.push({ t: f.t, label, score: Math.round((0.3 + random() * 0.7) * 10) / 10 });
        }
      }
      const ranges: [number, number][] = [];
      for (const f of seen) {
        const last = ranges.at(-1);
        if (last && f.t - last[1] < interval * 0.5) last[1] = f.t + interval;
        else ranges.push([f.t, f.t + interval]);
      }
      const scores = detections.filter((d) => d.label === label).map((d) => d.score);
      labels.push({ label, best_score: Math.max(...scores), ranges, frames: seen.length });
    }
    const said =
      random() < 0.3
        ? []
        : Array.from({ length: 1 + Math.floor(random() * 10) }, () =>
            random() < 0.8 ? pick(VARIED_WORDS) : pick(VARIED_ODD_WORDS),
          );
    const words = said.map((word, i) => {
      const at = (i * length) / said.length + random() * 0.2;
      return { word, start: at, end: Math.min(length, at + 0.3 + random() * 0.5) };
    });
    clips.push({
      clip,
      start,
      end: start + length,
      transcript: said.join(' '),
      words,
      labels,
      detections,
      frames,
      ...(random() < 0.9 ? { video_key: `${root}/transcode-clip/${clip}/clip.mp4` } : {}),
      ...(random() < 0.8 ? { thumbnail_key: `${root}/sample-frames/${clip}/thumb.jpg` } : {}),
    });
    // Now and then a clip failed: the next one starts after a gap.
    start += length + (random() < 0.2 ? 10 : 0);
  }
  const created = `2026-11-${String(10 + n).padStart(2, '0')}T10:00:00.000Z`;
  // The second analysis of one video missed its end: the first, complete one is searched.
  const spec = { name, clips: [], created_at: created, ...(n === 13 ? { unanalysedS: 5 } : {}) };
  return documentOf(spec, clips, interval);
}
