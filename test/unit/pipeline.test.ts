import { describe, expect, it } from 'vitest';
import {
  CLIP_STAGES,
  isFanOutStage,
  PIPELINE,
  REQUEST_STAGES,
  ROWS,
  STAGE_NAMES,
} from '../../common/contracts/pipeline.js';
import { STAGE_CONTRACTS } from '../../common/contracts/stages.js';
import { clipTaskKeys, parseTaskKey, type TaskKey, taskKey } from '../../common/task-key.js';
import { dependenciesOf, dependentsOf, downstreamOf } from '../../functions/orchestrator/dag.js';

// Every task of a request with these clips (not 0..n-1: fan-out follows the clips cut-clips names).
const CLIPS = [0, 1, 7];
const ALL_TASKS: TaskKey[] = [...REQUEST_STAGES, ...CLIPS.flatMap(clipTaskKeys)];
const tasksOf = (stage: string) => ALL_TASKS.filter((key) => parseTaskKey(key).stage === stage);

describe('the pipeline table', () => {
  it('lists every stage once, each request- or clip-scoped, with a contract', () => {
    expect([...REQUEST_STAGES, ...CLIP_STAGES].sort()).toEqual([...STAGE_NAMES].sort());
    expect(Object.keys(STAGE_CONTRACTS)).toEqual(STAGE_NAMES);
  });

  it.each(STAGE_NAMES)(
    '%s runs after earlier rows only, a request stage after request stages only',
    (stage) => {
      const earlier = STAGE_NAMES.slice(0, STAGE_NAMES.indexOf(stage));
      for (const dep of ROWS[stage].after) {
        expect(earlier).toContain(dep);
        if (ROWS[stage].scope === 'request') expect(ROWS[dep].scope).toBe('request');
      }
    },
  );

  it('gives every stage its own scheduling order, so the ready queue never ties', () => {
    const orders = STAGE_NAMES.map((s) => ROWS[s].order);
    expect(new Set(orders).size).toBe(orders.length);
  });

  it('fans out from the request stages that clip stages run after', () => {
    expect(STAGE_NAMES.filter(isFanOutStage)).toEqual(['cut-clips']);
    expect(PIPELINE['transcode-clip'].after).toEqual(['cut-clips']);
  });
});

describe('dependentsOf is the inverse of dependenciesOf', () => {
  it.each(STAGE_NAMES)('%s: every dependency lists it as a dependent, and back', (stage) => {
    for (const key of tasksOf(stage)) {
      const ref = parseTaskKey(key);
      for (const dep of dependenciesOf(ref)) {
        expect(ALL_TASKS).toContain(dep);
        expect(dependentsOf(parseTaskKey(dep), CLIPS)).toContain(key);
      }
      for (const later of dependentsOf(ref, CLIPS)) {
        expect(ALL_TASKS).toContain(later);
        expect(dependenciesOf(parseTaskKey(later))).toContain(key);
      }
    }
  });

  it('counts each edge once: the edges seen from both ends are the same set', () => {
    const forward = ALL_TASKS.flatMap((key) =>
      dependenciesOf(parseTaskKey(key)).map((dep) => `${dep} → ${key}`),
    );
    const backward = ALL_TASKS.flatMap((key) =>
      dependentsOf(parseTaskKey(key), CLIPS).map((later) => `${key} → ${later}`),
    );
    expect(backward.sort()).toEqual(forward.sort());
    expect(new Set(forward).size).toBe(forward.length);
  });

  it.each(CLIP_STAGES)(
    '%s: its downstream is every task of its clip that needs it, through dependenciesOf',
    (stage) => {
      const key = taskKey(stage, 7);
      const needs = (later: TaskKey): boolean =>
        dependenciesOf(parseTaskKey(later)).some((dep) => dep === key || needs(dep));
      expect(new Set(downstreamOf(parseTaskKey(key)))).toEqual(new Set(clipTaskKeys(7).filter(needs)));
    },
  );
});
