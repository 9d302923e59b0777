import { describe, expect, it } from 'vitest';
import { IndexedClip } from '../../common/contracts/video-index.js';
import { type ClipEvidence, rankRanges, understandQuery } from '../../common/matching/index.js';
import { clipEvidence, indexedClip } from '../../common/search/clips.js';
import { mulberry32 } from '../helpers/seeded-random.js';

/** Clips as detect-objects and transcribe-clip write them: several boxes of a label per frame, ties, gaps. */
function clips(random: () => number): ClipEvidence[] {
  const labels = ['person', 'car', 'dog'];
  const spoken = ['the', 'budget', 'red', 'car', 'was', 'late'];
  return Array.from({ length: 12 }, (_, clip) => {
    const frames = Array.from({ length: 20 }, (_, i) => ({
      key: `requests/r_x/sample-frames/${String(clip).padStart(4, '0')}/frame-${String(i + 1).padStart(5, '0')}.jpg`,
      t: i * 0.5 + 0.01 * random(),
    }));
    const detections = frames.flatMap((f) =>
      labels
        .filter(() => random() < 0.5)
        .flatMap((label) =>
          Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
            t: f.t,
            label,
            // Coarse scores: ties across frames, as a real detector gives.
            score: Math.round((0.3 + random() * 0.7) * 10) / 10,
            box: [0, 0, 0.5, 0.5] as [number, number, number, number],
          })),
        ),
    );
    const words = Array.from({ length: 8 }, (_, i) => ({
      word: spoken[Math.floor(random() * spoken.length)]!,
      start: i,
      end: i + 0.4,
    }));
    return {
      clip,
      start: clip * 10,
      end: clip * 10 + 10,
      words,
      transcript: words.map((w) => w.word).join(' '),
      labels: labels.map((label) => ({
        label,
        best_score: Math.max(0, ...detections.filter((d) => d.label === label).map((d) => d.score)),
        ranges: [[1, 4] as [number, number], [6.5, 9]],
        frames: 7,
      })),
      detections,
      frames,
      video_key: `requests/r_x/transcode-clip/${String(clip).padStart(4, '0')}/clip.mp4`,
      thumbnail_key: `requests/r_x/sample-frames/${String(clip).padStart(4, '0')}/thumb.jpg`,
    };
  });
}

describe('a clip as the video index document holds it', () => {
  it.each([1, 2, 3])('ranks exactly as the evidence it was made from (seed %i)', (seed) => {
    const evidence = clips(mulberry32(seed));
    const indexed = evidence.map(indexedClip);
    for (const c of indexed) expect(IndexedClip.parse(JSON.parse(JSON.stringify(c)))).toEqual(c);
    const back = indexed.map(clipEvidence);
    for (const query of ['a person with a dog', 'a car', 'the budget', '"red car" and a person', 'dogs']) {
      const understood = understandQuery(query);
      expect(rankRanges(understood, back, { frameIntervalS: 0.5 })).toEqual(
        rankRanges(understood, evidence, { frameIntervalS: 0.5 }),
      );
    }
  });

  it('holds each frame key once, after the folder they share, and one score per label and frame', () => {
    const [first] = clips(mulberry32(4)).map(indexedClip);
    expect(first!.frames_prefix).toBe('requests/r_x/sample-frames/0000/');
    expect(first!.frames[0]![0]).toBe('frame-00001.jpg');
    for (const l of first!.labels) expect(new Set(l.seen.map(([t]) => t)).size).toBe(l.seen.length);
  });
});
