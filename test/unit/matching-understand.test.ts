import { describe, expect, it } from 'vitest';
import { UnderstoodQuery } from '../../common/contracts/final.js';
import { COCO_LABELS, NOTHING_SEARCHABLE_NOTE, stem, understandQuery } from '../../common/matching/index.js';

describe('understandQuery: object labels', () => {
  it.each([
    ['find scenes with cars', ['car']],
    ['a car', ['car']],
    ['find the motorbikes', ['motorcycle']],
    ['motorcycles', ['motorcycle']],
    ['vehicles', ['car', 'truck', 'bus', 'motorcycle', 'bicycle']],
    ['heavy traffic', ['car', 'truck', 'bus', 'motorcycle', 'bicycle']],
    ['a red traffic light', ['traffic light']],
    ['traffic lights and buses', ['traffic light', 'bus']],
    ['people', ['person']],
    ['someone waving', ['person']],
    ['a man and two women', ['person']],
    ['children', ['person']],
    ['pets', ['cat', 'dog']],
    ['puppies', ['dog']],
    ['animals', ['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe']],
    ['a cup of coffee', ['cup']],
    ['mobile phones', ['cell phone']],
    ['the TV', ['tv']],
    ['a sofa', ['couch']],
    ['hot dogs', ['hot dog']],
    ['a hair dryer', ['hair drier']],
    ['teddy bears', ['teddy bear']],
    ['planes and boats', ['airplane', 'boat']],
  ])('%j → %j', (query, labels) => {
    const understood = understandQuery(query);
    expect(understood.labels).toEqual(labels);
    expect(understood.note).toBeUndefined();
  });

  it('every COCO label and its regular plural name the label itself', () => {
    for (const label of COCO_LABELS) {
      expect(understandQuery(label).labels, label).toContain(label);
      const plural = label.endsWith('s') || label.endsWith('h') ? `${label}es` : `${label}s`;
      if (!['skis', 'scissors'].includes(label))
        expect(understandQuery(plural).labels, plural).toContain(label);
    }
  });

  it('words that name labels are not transcript terms; the rest are', () => {
    const understood = understandQuery('people walking their dogs');
    expect(understood.labels).toEqual(['person', 'dog']);
    expect(understood.terms).toEqual(['walking']);
  });
});

describe('understandQuery: transcript terms and phrases', () => {
  it.each([
    ['where do they talk about the budget', [], ['budget'], []],
    ['Find the scenes where someone mentions the BUDGET', ['person'], ['budget'], []],
    ['show me "city council" meetings', [], ['meetings'], ['city council']],
    ['“new park” and the bridge', [], ['bridge'], ['new park']],
    ['"the"', [], ['the'], []],
    ["the mayor's speech", [], ['mayor', 'speech'], []],
    ['budget budgets budgeting', [], ['budget'], []],
  ])('%j → labels %j, terms %j, phrases %j', (query, labels, terms, phrases) => {
    const understood = understandQuery(query);
    expect(understood.labels).toEqual(labels);
    expect(understood.terms).toEqual(terms);
    expect(understood.phrases).toEqual(phrases);
    expect(understood.note).toBeUndefined();
  });

  it('conforms to the UnderstoodQuery contract', () => {
    for (const q of ['cars', 'budget', '', 'x', '"a b"']) {
      expect(UnderstoodQuery.safeParse(understandQuery(q)).success).toBe(true);
    }
  });
});

describe('understandQuery: nothing searchable', () => {
  it.each([
    ['', []],
    ['find the scenes where they talk about', []],
    ['show me something', []],
    ['?!', []],
    ['x y', ['x', 'y']],
  ])('%j says so in `note` and lists unknown words %j', (query, unknown) => {
    const understood = understandQuery(query);
    expect(understood).toMatchObject({ labels: [], terms: [], phrases: [], unknown });
    expect(understood.note).toBe(NOTHING_SEARCHABLE_NOTE);
  });

  it('lists unusable words as unknown even when other parts are searchable', () => {
    const understood = understandQuery('dogs q');
    expect(understood.labels).toEqual(['dog']);
    expect(understood.unknown).toEqual(['q']);
    expect(understood.note).toBeUndefined();
  });
});

describe('understandQuery: what can be seen, and what only heard', () => {
  it('keeps each thing to look for apart, with the labels that stand for it', () => {
    expect(understandQuery('a person with a cup').objects).toEqual([
      { words: 'person', labels: ['person'] },
      { words: 'cup', labels: ['cup'] },
    ]);
    expect(understandQuery('vehicles near the traffic lights').objects).toEqual([
      { words: 'vehicles', labels: ['car', 'truck', 'bus', 'motorcycle', 'bicycle'] },
      { words: 'traffic lights', labels: ['traffic light'] },
    ]);
    // Two words for the same thing are one object.
    expect(understandQuery('people and persons').objects).toEqual([{ words: 'people', labels: ['person'] }]);
  });

  it.each([
    ['a box', ['box'], [{ word: 'box', labels: ['suitcase', 'book'] }]],
    ['a tree', ['tree'], [{ word: 'tree', labels: ['potted plant'] }]],
    ['a hand', ['hand'], [{ word: 'hand', labels: ['person'] }]],
    ['the weather', ['weather'], []],
    ['wearing', ['wearing'], []],
    ['a motorcyle', ['motorcyle'], [{ word: 'motorcyle', labels: ['motorcycle'] }]],
    ['"city council"', ['city council'], []],
  ])('%j: %j searched only in speech, near labels %j', (query, speechOnly, suggestions) => {
    const understood = understandQuery(query);
    expect(understood.objects).toEqual([]);
    expect(understood.speech_only).toEqual(speechOnly);
    expect(understood.suggestions).toEqual(suggestions);
  });

  it('does not suggest a label the query already names', () => {
    const understood = understandQuery('people waving their hands');
    expect(understood.labels).toEqual(['person']);
    expect(understood.speech_only).toEqual(['waving', 'hands']);
    expect(understood.suggestions).toEqual([]);
  });
});

describe('stem (Porter)', () => {
  it.each([
    ['caresses', 'caress'],
    ['ponies', 'poni'],
    ['cats', 'cat'],
    ['agreed', 'agre'],
    ['motoring', 'motor'],
    ['hopping', 'hop'],
    ['filing', 'file'],
    ['happy', 'happi'],
    ['relational', 'relat'],
    ['generalization', 'gener'],
    ['electricity', 'electr'],
    ['adjustment', 'adjust'],
    ['controllable', 'control'],
  ])('%s → %s', (word, expected) => {
    expect(stem(word)).toBe(expected);
  });

  it('brings inflections of one word together', () => {
    expect(new Set(['budget', 'budgets', 'budgeting', 'budgeted'].map(stem)).size).toBe(1);
    expect(new Set(['talk', 'talks', 'talking', 'talked'].map(stem)).size).toBe(1);
  });
});
