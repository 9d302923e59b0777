import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ClipseekError, NotFoundError, RetryableError } from '../../common/errors.js';
import { PROFILES } from '../../common/profiles.js';
import type { ObjectStore } from '../../common/storage/types.js';
import type { StageInvoker } from '../../functions/orchestrator/invoker.js';
import { OutputCache, runTask } from '../../functions/orchestrator/task-runner.js';

/** extract-audio's task, after a copy-source this driver ran, on `store`, invoking with `invoke`. */
function runExtractAudio(store: ObjectStore, invoke: StageInvoker) {
  const ctx = {
    namespace: 'default',
    requestId: 'r_fail0001',
    videoUri: 'store://uploads/a.mp4',
    profile: PROFILES.default,
  };
  const deps = {
    store,
    invoke,
    logger: pino({ level: 'silent' }),
    now: () => new Date('2026-11-25T10:00:00.000Z'),
    random: () => 0.5,
    local: {
      'copy-source': async () => {
        throw new Error('not called: the source is copied');
      },
    },
  };
  // The source was copied by this driver: its output is at hand, nothing is read.
  const cache = new OutputCache(store, () => undefined);
  cache.set('copy-source', {
    source_key: `results/default/copy-source/${'a'.repeat(64)}/source.mp4`,
    sha256: 'a'.repeat(64),
    size_bytes: 1,
    name: 'a.mp4',
  });
  return runTask('extract-audio', ctx, cache, deps, () => {}, new AbortController().signal);
}

/** The task-failed event of an extract-audio whose invocation throws `err` (no results at its digest yet). */
async function failedWith(err: unknown) {
  const store = {
    getJson: async (key: string) => {
      throw new NotFoundError('NOT_FOUND', key);
    },
  } as unknown as ObjectStore;
  const { event } = await runExtractAudio(store, async () => {
    throw err;
  });
  expect(event.type).toBe('task-failed');
  return event as Extract<typeof event, { type: 'task-failed' }>;
}

describe('a failed task: the wait it asks for is read by error type', () => {
  it('keeps the Retry-After of a RetryableError', async () => {
    const event = await failedWith(
      new RetryableError('STAGE_BUSY', 'busy', { status: 429, retryAfterMs: 4000 }),
    );
    expect(event.retry_after_ms).toBe(4000);
  });

  it('a RetryableError without one asks for none', async () => {
    const event = await failedWith(new RetryableError('STAGE_UNAVAILABLE', 'down'));
    expect(event).not.toHaveProperty('retry_after_ms');
  });

  it('ignores a retryAfterMs field on an error that is not retryable', async () => {
    const err = Object.assign(new ClipseekError('STAGE_REJECTED', 'no'), { retryAfterMs: 4000 });
    const event = await failedWith(err);
    expect(event.error.retryable).toBe(false);
    expect(event).not.toHaveProperty('retry_after_ms');
  });
});

describe('looking for the results at the digest', () => {
  it('a look that fails (storage throttling) calls the stage instead of failing the task', async () => {
    const invoked: string[] = [];
    const store = {
      getJson: async () => {
        throw new RetryableError('STORAGE_THROTTLED', 'slow down');
      },
    } as unknown as ObjectStore;
    const { event } = await runExtractAudio(store, async (stage) => {
      invoked.push(stage);
      throw new RetryableError('STAGE_UNAVAILABLE', 'down');
    });
    expect(invoked).toEqual(['extract-audio']);
    expect(event).toMatchObject({ type: 'task-failed', error: { code: 'STAGE_UNAVAILABLE' } });
  });
});
