import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorInfo } from '../../common/contracts/common.js';
import { FinalResult } from '../../common/contracts/final.js';
import type { FinalStatus } from '../../common/contracts/request.js';
import { requestKeys } from '../../common/keys.js';
import { finishRequest } from '../../common/state/lifecycle.js';
import { createState, readState, updateState, type VersionedState } from '../../common/state/state-store.js';
import { writeFinish } from '../../functions/orchestrator/finish.js';
import { type Harness, makeHarness } from '../helpers/orchestrator-harness.js';
import { makeState, T0 } from '../helpers/state.js';

const AT = new Date(Date.parse(T0) + 5_000);
const ID = 'r_test0001';
let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

/** The driver "test" ends the request at AT (indexing in its namespace, the default). */
function finish(driven: VersionedState, decided: { status: FinalStatus; error: ErrorInfo | null }) {
  return writeFinish(h.store, driven, decided, 'test', AT);
}

async function finalJson() {
  return FinalResult.parse((await h.store.getJson(requestKeys(ID).final)).value);
}

describe('writeFinish: the driver ends the request, final.json first, then state.json', () => {
  const error = { code: 'UNREADABLE_MEDIA', message: 'not a video' };
  it.each([
    ['SUCCEEDED', null],
    ['FAILED', error],
    ['CANCELLED', null],
  ] as const)(
    '%s: stored as decided, beside its final.json, with the coverage of final.json',
    async (status, err) => {
      const driven = await createState(h.store, makeState());
      const done = await finish(driven, { status, error: err });
      const { state } = await readState(h.store, ID);
      expect(done).toMatchObject({ outcome: 'finished', state: { status } });
      expect(state).toMatchObject({ status, error: err, lease: null, updated_at: AT.toISOString() });
      const final = await finalJson();
      expect(final.status).toBe(status);
      expect(done.outcome === 'finished' && done.result).toEqual(final);
      expect(state.coverage).toEqual(final.coverage);
    },
  );

  it('someone wrote in between but the lease is still ours (a cancel flag): finished on the stored state', async () => {
    const driven = await createState(h.store, makeState());
    await updateState(h.store, ID, (s) => {
      s.cancel_requested = true;
      return true;
    });
    const done = await finish(driven, { status: 'SUCCEEDED', error: null });
    const { state } = await readState(h.store, ID);
    expect(done.outcome).toBe('finished');
    expect(state).toMatchObject({ status: 'SUCCEEDED', cancel_requested: true, lease: null });
  });

  it('the sweeper expired it in between: overtaken, and its status stays', async () => {
    const driven = await createState(h.store, makeState());
    await updateState(h.store, ID, (s) => {
      finishRequest(s, 'EXPIRED', { code: 'REQUEST_EXPIRED', message: 'ttl' }, T0);
      return true;
    });
    const done = await finish(driven, { status: 'SUCCEEDED', error: null });
    expect(done).toMatchObject({ outcome: 'overtaken', state: { status: 'EXPIRED' } });
    expect((await readState(h.store, ID)).state.status).toBe('EXPIRED');
  });

  it('another driver took the lease in between: overtaken, and nothing of ours is written', async () => {
    const driven = await createState(h.store, makeState());
    await updateState(h.store, ID, (s) => {
      s.lease = { owner: 'other', expires_at: AT.toISOString() };
      return true;
    });
    const done = await finish(driven, { status: 'FAILED', error });
    expect(done).toMatchObject({ outcome: 'overtaken', state: { status: 'RUNNING' } });
    expect((await readState(h.store, ID)).state).toMatchObject({
      status: 'RUNNING',
      lease: { owner: 'other' },
    });
  });
});
