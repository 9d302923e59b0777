import { describe, expect, it } from 'vitest';
import { Match } from '../../common/contracts/final.js';
import type { Detection, LabelEvidence, Word } from '../../common/contracts/stages.js';
import { clipId } from '../../common/keys.js';
import { type ClipEvidence, rankRanges, SCORING, understandQuery } from '../../common/matching/index.js';

/** Words spoken one per second from `from` (clip-relative), 0.8 s each. */
function spoken(text: string, from = 0): Word[] {
  return text.split(' ').map((word, i) => ({ word, start: from + i, end: from + i + 0.8 }));
}

function clip(index: number, start: number, end: number, parts: Partial<ClipEvidence> = {}): ClipEvidence {
  const words = parts.words ?? [];
  return {
    clip: index,
    start,
    end,
    words,
    labels: [],
    transcript: words.map((w) => w.word).join(' '),
    video_key: `requests/r_test/transcode-clip/${clipId(index)}/clip.mp4`,
    thumbnail_key: `requests/r_test/sample-frames/${clipId(index)}/thumb.jpg`,
    ...parts,
  };
}

/**
 * A clip whose frames (one a second, clip-relative t = 0, 1, …) see `label`
 * at `score` in the seconds listed: labels, detections and frames as the
 * stages write them.
 */
function seeing(index: number, start: number, end: number, label: string, score: number, seconds: number[]) {
  const detections: Detection[] = seconds.map((t) => ({ t, label, score, box: [0, 0, 1, 1] }));
  const ranges: [number, number][] = [];
  for (const t of seconds) {
    const last = ranges.at(-1);
    if (last && last[1] === t) last[1] = t + 1;
    else ranges.push([t, t + 1]);
  }
  const labels: LabelEvidence[] = seconds.length
    ? [{ label, best_score: score, ranges, frames: seconds.length }]
    : [];
  const frames = Array.from({ length: Math.ceil(end - start) }, (_, t) => ({
    key: `requests/r_test/sample-frames/${clipId(index)}/frame-${String(t).padStart(5, '0')}.jpg`,
    t,
  }));
  return clip(index, start, end, { labels, detections, frames });
}

const secs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const rank = (query: string, clips: ClipEvidence[]) =>
  rankRanges(understandQuery(query), clips, { frameIntervalS: 1 });

describe('rankRanges: answers are time ranges', () => {
  it('one presence across clip boundaries is one range naming every clip it spans', () => {
    // A person in every frame of 3 clips of 10 s: one answer 0–30, not three clip windows.
    const clips = [0, 1, 2].map((i) => seeing(i, i * 10, i * 10 + 10, 'person', 0.8, secs(0, 10)));
    const matches = rank('people walking', clips);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ start: 0, end: 30, clips: [0, 1, 2], found: ['people'] });
    expect(matches[0]!.video_keys).toHaveLength(3);
    expect(Match.safeParse(matches[0]).success).toBe(true);
  });

  it('a frame stands for the time around it; one missed frame does not split a range', () => {
    const matches = rank('car', [seeing(0, 0, 20, 'car', 0.6, [3, 4, 5, 7, 8])]);
    // Frames 3..8 (6 missed): centred ranges [2.5, 8.5], joined over the one-frame gap.
    expect(matches.map((m) => [m.start, m.end])).toEqual([[2.5, 8.5]]);
    const apart = rank('car', [seeing(0, 0, 20, 'car', 0.6, [3, 4, 8, 9])]);
    expect(apart.map((m) => [m.start, m.end])).toEqual([
      [2.5, 4.5],
      [7.5, 9.5],
    ]);
  });

  it('ranges stay inside the clips they come from', () => {
    const matches = rank('car', [seeing(0, 100, 103, 'car', 0.9, [0, 1, 2])]);
    expect(matches.map((m) => [m.start, m.end])).toEqual([[100, 103]]);
  });

  it('carries the best frame of the range as its thumbnail', () => {
    const c = seeing(0, 50, 60, 'dog', 0.5, secs(0, 6));
    c.detections = c.detections!.map((d) => (d.t === 4 ? { ...d, score: 0.95 } : d));
    const [m] = rank('dogs', [c]);
    expect(m).toMatchObject({
      thumbnail_key: 'requests/r_test/sample-frames/0000/frame-00004.jpg',
      thumbnail_t: 54,
      score: 0.95,
    });
    expect(m!.why.labels).toEqual([{ label: 'dog', ranges: [[50, 55.5]], best_score: 0.95 }]);
  });

  it('where a query names two things, the range where both are seen ranks first', () => {
    const person = seeing(0, 0, 30, 'person', 0.9, secs(0, 30));
    const cup = seeing(0, 0, 30, 'cup', 0.4, secs(10, 20));
    const both = clip(0, 0, 30, {
      labels: [...person.labels, ...cup.labels],
      detections: [...person.detections!, ...cup.detections!],
      frames: person.frames,
    });
    const matches = rank('a person with a cup', [both]);
    expect(matches.map((m) => [m.start, m.end, m.found])).toEqual([
      [9.5, 19.5, ['person', 'cup']],
      [19.5, 30, ['person']],
      [0, 9.5, ['person']],
    ]);
    expect(matches[1]!.missing).toEqual(['cup']);
  });

  it('a category word is one part: any of its labels counts', () => {
    const clips = [seeing(0, 0, 10, 'car', 0.6, secs(5, 10)), seeing(1, 10, 20, 'truck', 0.5, secs(0, 3))];
    const matches = rank('vehicles', clips);
    expect(matches.map((m) => [m.start, m.end, m.found])).toEqual([[4.5, 12.5, ['vehicles']]]);
    expect(matches[0]!.why.labels.map((l) => l.label)).toEqual(['car', 'truck']);
  });
});

describe('rankRanges: words heard', () => {
  const clips = [
    clip(0, 0, 8, { words: spoken('the council met on monday') }),
    clip(1, 8, 16, { words: spoken('they discussed the budget and budgets again', 1) }),
    clip(2, 16, 24, { words: spoken('the new budget for the city council') }),
  ];

  it('finds stemmed terms; each range holds the words heard in it, with source times', () => {
    const matches = rank('where do they talk about budgeting', clips);
    expect(matches.map((m) => [m.start, m.end, m.clips])).toEqual([
      [11.5, 13.3, [1]],
      [13.5, 15.3, [1]],
      [17.5, 19.3, [2]],
    ]);
    expect(matches[0]!.why.words).toEqual([{ word: 'budget', term: 'budgeting', start: 12, end: 12.8 }]);
    expect(matches[0]!.score).toBeCloseTo(SCORING.termHit, 6);
    expect(matches[0]!.transcript).toBe('budget');
  });

  it('matches a quoted phrase only as consecutive words', () => {
    const matches = rank('"city council"', clips);
    expect(matches).toHaveLength(1);
    expect(matches[0]!.why.words).toEqual([
      { word: 'city council', term: 'city council', start: 21, end: 22.8 },
    ]);
    expect(matches[0]!.score).toBeCloseTo(SCORING.phraseHit, 6);
  });

  it('normalizes what the engine heard (case, punctuation, hyphens)', () => {
    const c = clip(0, 0, 5, {
      words: [
        { word: ' Budget,', start: 0.5, end: 1 },
        { word: 'ice-cream', start: 1, end: 2 },
      ],
    });
    const [m] = rank('budget cream', [c]);
    expect(m!.why.words.map((w) => [w.word, w.term])).toEqual([
      ['Budget,', 'budget'],
      ['ice-cream', 'cream'],
    ]);
  });

  it('repeats close together join into one range; the bonus for repeats is capped', () => {
    const c = clip(0, 0, 20, { words: spoken('budget budget budget budget budget budget') });
    const [m] = rank('budget', [c]);
    expect([m!.start, m!.end]).toEqual([0, 6.3]);
    expect(m!.why.words).toHaveLength(6);
    expect(m!.score).toBeCloseTo(SCORING.termHit + SCORING.maxRepeats * SCORING.repeatBonus, 6);
  });

  it('a range both seen and heard ranks above one only seen', () => {
    const dog = seeing(0, 0, 20, 'dog', 0.8, secs(0, 20));
    dog.words = spoken('a walk in the park', 14);
    const matches = rank('dogs in the park', [dog]);
    expect(matches[0]).toMatchObject({ start: 17.5, end: 19.3, found: ['dogs', 'park'] });
    expect(matches.slice(1).every((m) => m.found.length === 1)).toBe(true);
  });
});

describe('rankRanges: ties and nothing searchable', () => {
  it('breaks ties by start time, whatever the input order', () => {
    const make = (i: number) => clip(i, i * 10, i * 10 + 10, { words: spoken('budget') });
    const matches = rank('budget', [make(3), make(1), make(2)]);
    expect(matches.map((m) => m.clips)).toEqual([[1], [2], [3]]);
  });

  it('a query with nothing searchable matches nothing', () => {
    const understood = understandQuery('find the scenes where they talk about');
    expect(understood.note).toBeDefined();
    const c = seeing(0, 0, 10, 'person', 0.9, secs(0, 10));
    expect(rankRanges(understood, [c], { frameIntervalS: 1 })).toEqual([]);
  });

  it('a searchable query that nothing matches returns no matches', () => {
    expect(rank('giraffes', [seeing(0, 0, 10, 'person', 0.9, secs(0, 10))])).toEqual([]);
  });

  it('omits the thumbnail when no frame or thumbnail is known', () => {
    const c = {
      ...clip(0, 0, 10, { words: spoken('budget') }),
      video_key: undefined,
      thumbnail_key: undefined,
    };
    const [m] = rank('budget', [c]);
    expect(m!.video_keys).toEqual([]);
    expect(m).not.toHaveProperty('thumbnail_key');
  });
});
