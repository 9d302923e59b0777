import { describe, expect, it } from 'vitest';
import { Match } from '../../common/contracts/final.js';
import type { LabelEvidence, Word } from '../../common/contracts/stages.js';
import { type ClipEvidence, rankClips, SCORING, understandQuery } from '../../common/matching/index.js';

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
    video_key: `requests/r_test/transcode-clip/${String(index).padStart(4, '0')}/clip.mp4`,
    thumbnail_key: `requests/r_test/sample-frames/${String(index).padStart(4, '0')}/thumb.jpg`,
    ...parts,
  };
}

const seen = (label: string, best_score: number, ranges: [number, number][]): LabelEvidence => ({
  label,
  best_score,
  ranges,
  frames: ranges.reduce((n, [a, b]) => n + Math.round(b - a), 0),
});

describe('rankClips: labels', () => {
  const clips = [
    clip(0, 0, 10, { labels: [seen('person', 0.9, [[0, 10]])] }),
    clip(1, 10, 20, { labels: [seen('car', 0.8, [[2, 4]])] }),
    clip(2, 20, 30, { labels: [seen('car', 0.6, [[0, 10]]), seen('truck', 0.5, [[5, 10]])] }),
    clip(3, 30, 40, { labels: [seen('dog', 0.9, [[0, 10]])] }),
  ];

  it('scores time coverage × best score, ranks best first, leaves out clips without evidence', () => {
    const matches = rankClips(understandQuery('find scenes with cars'), clips);
    expect(matches.map((m) => m.clip)).toEqual([2, 1]);
    expect(matches[0]!.score).toBeCloseTo(1 * 0.6, 6);
    expect(matches[1]!.score).toBeCloseTo((2 / 10) * 0.8, 6);
  });

  it('sums the labels a category word names', () => {
    const [top] = rankClips(understandQuery('vehicles'), clips);
    expect(top!.clip).toBe(2);
    expect(top!.score).toBeCloseTo(0.6 + 0.5 * 0.5, 6);
    expect(top!.why.labels.map((l) => l.label)).toEqual(['car', 'truck']);
  });

  it('explains with source-time ranges and carries the clip keys', () => {
    const [, second] = rankClips(understandQuery('cars'), clips);
    expect(second).toMatchObject({
      clip: 1,
      start: 10,
      end: 20,
      why: { labels: [{ label: 'car', ranges: [[12, 14]], best_score: 0.8 }], words: [] },
      video_key: 'requests/r_test/transcode-clip/0001/clip.mp4',
      thumbnail_key: 'requests/r_test/sample-frames/0001/thumb.jpg',
    });
    expect(Match.safeParse(second).success).toBe(true);
  });

  it('clamps ranges to the clip and merges overlapping ones before measuring coverage', () => {
    const c = clip(0, 100, 110, {
      labels: [
        seen('car', 1, [
          [-1, 3],
          [2, 5],
          [9, 12],
        ]),
      ],
    });
    const [m] = rankClips(understandQuery('car'), [c]);
    expect(m!.score).toBeCloseTo(6 / 10, 6);
    expect(m!.why.labels[0]!.ranges).toEqual([
      [100, 105],
      [109, 110],
    ]);
  });
});

describe('rankClips: transcript', () => {
  const clips = [
    clip(0, 0, 8, { words: spoken('the council met on monday') }),
    clip(1, 8, 16, { words: spoken('they discussed the budget and budgets again', 1) }),
    clip(2, 16, 24, { words: spoken('the new budget for the city council') }),
  ];

  it('finds stemmed terms and reports each hit with source times', () => {
    const matches = rankClips(understandQuery('where do they talk about budgeting'), clips);
    expect(matches.map((m) => m.clip)).toEqual([1, 2]);
    const [first, second] = matches;
    expect(first!.score).toBeCloseTo(SCORING.termHit + SCORING.repeatBonus, 6);
    expect(second!.score).toBeCloseTo(SCORING.termHit, 6);
    expect(first!.why.words).toEqual([
      { word: 'budget', term: 'budgeting', start: 12, end: 12.8 },
      { word: 'budgets', term: 'budgeting', start: 14, end: 14.8 },
    ]);
    expect(first!.transcript).toBe('they discussed the budget and budgets again');
  });

  it('matches a quoted phrase only as consecutive words', () => {
    const matches = rankClips(understandQuery('"city council"'), clips);
    expect(matches.map((m) => m.clip)).toEqual([2]);
    expect(matches[0]!.score).toBeCloseTo(SCORING.phraseHit, 6);
    expect(matches[0]!.why.words).toEqual([
      { word: 'city council', term: 'city council', start: 21, end: 22.8 },
    ]);
  });

  it('normalizes what the engine heard (case, punctuation, hyphens)', () => {
    const c = clip(0, 0, 5, {
      words: [
        { word: ' Budget,', start: 0.5, end: 1 },
        { word: 'ice-cream', start: 1, end: 2 },
      ],
    });
    const [m] = rankClips(understandQuery('budget cream'), [c]);
    expect(m!.why.words.map((w) => [w.word, w.term])).toEqual([
      ['Budget,', 'budget'],
      ['ice-cream', 'cream'],
    ]);
  });

  it('caps the bonus for repeated words', () => {
    const c = clip(0, 0, 20, { words: spoken('budget budget budget budget budget budget') });
    const [m] = rankClips(understandQuery('budget'), [c]);
    expect(m!.score).toBeCloseTo(SCORING.termHit + SCORING.maxRepeats * SCORING.repeatBonus, 6);
    expect(m!.why.words).toHaveLength(6);
  });
});

describe('rankClips: mixed evidence, ties, nothing searchable', () => {
  it('adds what is seen and what is heard', () => {
    const clips = [
      clip(0, 0, 10, { labels: [seen('dog', 0.8, [[0, 10]])] }),
      clip(1, 10, 20, { labels: [seen('dog', 0.8, [[0, 10]])], words: spoken('a walk in the park') }),
    ];
    const matches = rankClips(understandQuery('dogs in the park'), clips);
    expect(matches.map((m) => m.clip)).toEqual([1, 0]);
    expect(matches[0]!.score).toBeCloseTo(0.8 + SCORING.termHit, 6);
    expect(matches[0]!.why.labels).toHaveLength(1);
    expect(matches[0]!.why.words).toEqual([{ word: 'park', term: 'park', start: 14, end: 14.8 }]);
  });

  it('breaks ties by clip index, whatever the input order', () => {
    const make = (i: number) => clip(i, i * 10, i * 10 + 10, { words: spoken('budget') });
    const matches = rankClips(understandQuery('budget'), [make(3), make(1), make(2)]);
    expect(matches.map((m) => m.clip)).toEqual([1, 2, 3]);
  });

  it('a query with nothing searchable matches nothing, even when every clip has evidence', () => {
    const clips = [
      clip(0, 0, 10, { labels: [seen('person', 0.9, [[0, 10]])], words: spoken('find the scenes') }),
    ];
    const understood = understandQuery('find the scenes where they talk about');
    expect(understood.note).toBeDefined();
    expect(rankClips(understood, clips)).toEqual([]);
  });

  it('a searchable query that nothing matches returns no matches and no note', () => {
    const understood = understandQuery('giraffes');
    expect(understood.note).toBeUndefined();
    expect(rankClips(understood, [clip(0, 0, 10, { labels: [seen('person', 0.9, [[0, 10]])] })])).toEqual([]);
  });

  it('omits clip keys that are not known', () => {
    const c = {
      ...clip(0, 0, 10, { words: spoken('budget') }),
      video_key: undefined,
      thumbnail_key: undefined,
    };
    const [m] = rankClips(understandQuery('budget'), [c]);
    expect(m).not.toHaveProperty('video_key');
    expect(m).not.toHaveProperty('thumbnail_key');
  });
});
