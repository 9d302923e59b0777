import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ClipseekError, NotFoundError, RetryableError } from '../../common/errors.js';
import { PROFILES } from '../../common/profiles.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { OutputCache, runTask } from '../../functions/orchestrator/task-runner.js';

/** The task-failed event of an extract-audio whose invocation throws `err` (no results at its digest yet). */
async function failedWith(err: unknown) {
  const store = {
    getJson: async (key: string) => {
      throw new NotFoundError('NOT_FOUND', key);
    },
  } as unknown as ObjectStore;
  const ctx = {
    namespace: 'default',
    requestId: 'r_fail0001',
    sourceKey: 'requests/r_fail0001/input/a.mp4',
    profile: PROFILES.default,
  };
  const deps = {
    store,
    invoke: async () => {
      throw err;
    },
    logger: pino({ level: 'silent' }),
    now: () => new Date('2026-11-25T10:00:00.000Z'),
    random: () => 0.5,
  };
  const { event } = await runTask(
    'extract-audio',
    ctx,
    new OutputCache(store, () => undefined),
    deps,
    () => {},
    new AbortController().signal,
  );
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
    const ctx = {
      namespace: 'default',
      requestId: 'r_look0001',
      sourceKey: 'requests/r_look0001/input/a.mp4',
      profile: PROFILES.default,
    };
    const { event } = await runTask(
      'extract-audio',
      ctx,
      new OutputCache(store, () => undefined),
      {
        store,
        invoke: async (stage) => {
          invoked.push(stage);
          throw new RetryableError('STAGE_UNAVAILABLE', 'down');
        },
        logger: pino({ level: 'silent' }),
        now: () => new Date('2026-11-25T10:00:00.000Z'),
        random: () => 0.5,
      },
      () => {},
      new AbortController().signal,
    );
    expect(invoked).toEqual(['extract-audio']);
    expect(event).toMatchObject({ type: 'task-failed', error: { code: 'STAGE_UNAVAILABLE' } });
  });
});
