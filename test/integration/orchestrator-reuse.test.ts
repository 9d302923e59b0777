/**
 * Content-addressed stage results, through the orchestrator: a task's results
 * are named by its digest (stage, version, input without the request id), so
 * any request whose task has the same digest reuses them and invokes nothing.
 * Invocations are counted at the gateway (FakeGateway.invocationsByRequest),
 * the work done at the stage (FakeGateway.runs: a call answered from a
 * manifest or from another call's claim does not count).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFunctionStage, REQUEST_STAGES } from '../../common/contracts/pipeline.js';
import type { RequestState } from '../../common/contracts/state.js';
import { resultsPrefix } from '../../common/keys.js';
import { readState } from '../../common/state/state-store.js';
import { clipTaskKeys } from '../../common/task-key.js';
import { finalOf, type Harness, makeHarness, waitFor } from '../helpers/orchestrator-harness.js';

const CLIPS = [0, 1, 2];
/**
 * The tasks whose stages are functions. copy-source, run by the orchestrator itself, fetches and
 * hashes the source for every request (the same URI may name other bytes tomorrow); its content
 * address is what every later task's digest covers.
 */
const ALL_TASKS = [...REQUEST_STAGES.filter(isFunctionStage), ...CLIPS.flatMap(clipTaskKeys)];
const submit = (request_id: string, query = 'find scenes with cars', extra: object = {}) => ({
  video_uri: 'store://uploads/video.mp4',
  query,
  profile: 'default' as const,
  request_id,
  ...extra,
});

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

async function stateOf(id: string): Promise<RequestState> {
  return (await readState(h.store, id)).state;
}

/** Every task ran its stage exactly once, whichever request asked for it. */
function ranOnceEach() {
  expect(Object.fromEntries(h.gateway.runs)).toEqual(Object.fromEntries(ALL_TASKS.map((t) => [t, 1])));
}

describe('content-addressed stage results', () => {
  it('a second request with another query on the same video invokes no stage, and answers its own query', async () => {
    const first = finalOf(await h.service().submit(submit('first', 'find scenes with cars'), undefined));
    expect(first.matches.map((m) => m.clips)).toEqual([[1]]);
    expect(h.gateway.invokedFor('first').size).toBe(ALL_TASKS.length);

    const second = finalOf(await h.service().submit(submit('second', 'what about the budget'), undefined));
    expect(second.status).toBe('SUCCEEDED');
    expect(h.gateway.invokedFor('second')).toEqual(new Map());
    // Its answer is its own, assembled from the shared results.
    expect(second.matches.map((m) => m.clips)).toEqual([[2]]);
    expect(second.clip_list.map((c) => c.video_key)).toEqual(first.clip_list.map((c) => c.video_key));
    const state = await stateOf('second');
    expect(state.tasks['copy-source']).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(state.tasks['copy-source']!.reused).toBeUndefined();
    for (const key of ALL_TASKS) {
      expect({ key, ...state.tasks[key] }).toMatchObject({
        key,
        status: 'SUCCEEDED',
        reused: true,
        attempts: 0,
        manifest: (await stateOf('first')).tasks[key]!.manifest,
      });
    }
    ranOnceEach();
  });

  it('two requests at once on a new video do each task once', async () => {
    const [a, b] = await Promise.all([
      h.service().submit(submit('racer-a', 'find scenes with cars'), undefined),
      h.service().submit(submit('racer-b', 'what about the budget'), undefined),
    ]);
    expect([finalOf(a).status, finalOf(b).status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(finalOf(b).matches.map((m) => m.clips)).toEqual([[2]]);
    ranOnceEach();
  });

  it('changing frames.fps runs exactly sample-frames and detect-objects again', async () => {
    finalOf(await h.service().submit(submit('fps-1'), undefined));
    const changed = finalOf(
      await h
        .service()
        .submit(submit('fps-2', 'find scenes with cars', { overrides: { frames: { fps: 2 } } }), undefined),
    );
    expect(changed.status).toBe('SUCCEEDED');
    const invoked = [...h.gateway.invokedFor('fps-2').keys()].sort();
    const expected = CLIPS.flatMap((c) => [`detect-objects/000${c}`, `sample-frames/000${c}`]).sort();
    expect(invoked).toEqual(expected);
    const state = await stateOf('fps-2');
    for (const key of ALL_TASKS) {
      expect({ key, reused: state.tasks[key]?.reused === true }).toEqual({
        key,
        reused: !expected.includes(key),
      });
    }
    // The new frames are results of their own; the first request's are untouched.
    const first = await stateOf('fps-1');
    expect(state.tasks['sample-frames/0000']!.digest).not.toBe(first.tasks['sample-frames/0000']!.digest);
    expect(state.tasks['transcribe-clip/0000']!.digest).toBe(first.tasks['transcribe-clip/0000']!.digest);
  });

  it('resume stays free of rework when another request finished the work meanwhile', async () => {
    const crash = new AbortController();
    h.gateway.hangAfter = 6; // the 7th invocation never answers, then the driver "dies"
    void h.service({ leaseMs: 300 }, crash.signal).submit(submit('crashed'), undefined);
    await waitFor(async () => (h.gateway.invocations.size >= 7 ? true : undefined));
    const succeeded = async () =>
      Object.values((await stateOf('crashed')).tasks).filter((t) => t.status === 'SUCCEEDED').length;
    await waitFor(async () => ((await succeeded()) >= 6 ? true : undefined));
    crash.abort();
    h.gateway.hangAfter = Number.POSITIVE_INFINITY;

    // Another request on the same video reuses what the crashed one finished and does the rest.
    finalOf(await h.service().submit(submit('meanwhile', 'what about the budget'), undefined));
    await new Promise((r) => setTimeout(r, 400)); // the crashed request's lease expires
    const before = new Map(h.gateway.invocations);
    const resumed = finalOf(await h.service().resume('crashed'));
    expect(resumed.status).toBe('SUCCEEDED');
    expect(resumed.matches.map((m) => m.clips)).toEqual([[1]]);
    expect(h.gateway.invocations).toEqual(before); // the resume invoked nothing
    // The task that hung at the crash finished in its stage once, and nothing ran twice.
    ranOnceEach();
  });

  it('different namespaces share nothing', async () => {
    finalOf(await h.service({ namespace: 'tenant-a' }).submit(submit('in-a'), undefined));
    finalOf(await h.service({ namespace: 'tenant-b' }).submit(submit('in-b'), undefined));
    expect(h.gateway.invokedFor('in-b').size).toBe(ALL_TASKS.length);
    expect(Object.fromEntries(h.gateway.runs)).toEqual(Object.fromEntries(ALL_TASKS.map((t) => [t, 2])));
    const [a, b] = [await stateOf('in-a'), await stateOf('in-b')];
    expect([a.namespace, b.namespace]).toEqual(['tenant-a', 'tenant-b']);
    for (const key of ALL_TASKS) {
      expect(a.tasks[key]!.manifest!.startsWith(resultsPrefix('tenant-a'))).toBe(true);
      expect(b.tasks[key]!.manifest!.startsWith(resultsPrefix('tenant-b'))).toBe(true);
    }
    // Within a namespace, results are shared as usual.
    finalOf(await h.service({ namespace: 'tenant-a' }).submit(submit('in-a-again', 'the budget'), undefined));
    expect(h.gateway.invokedFor('in-a-again')).toEqual(new Map());
  });
});
