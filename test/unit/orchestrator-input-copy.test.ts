import { describe, expect, it } from 'vitest';
import type { RequestState, TaskState } from '../../common/contracts/state.js';
import { claimCopy } from '../../functions/orchestrator/input-copy.js';
import { makeState, T0 } from '../helpers/state.js';

const NOW = new Date(T0);
const later = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const opts = { owner: 'me', leaseMs: 30_000, sourceAttempts: 3 };

/** A request still waiting for its source copy, with this copy record and lease. */
function waiting(copy: TaskState | undefined, lease: RequestState['lease'] = null): RequestState {
  const { input_key: _, ...s } = makeState();
  return { ...s, status: 'INIT', lease, ...(copy ? { input_copy: copy } : {}) };
}

describe('claimCopy: whether this call copies the source now', () => {
  it.each([
    { name: 'first attempt', copy: undefined, lease: null, verdict: 'copy', attempts: 1 },
    {
      name: 'a failed attempt whose backoff has passed',
      copy: { status: 'PENDING', attempts: 1, retry_at: later(-1) },
      lease: null,
      verdict: 'copy',
      attempts: 2,
    },
    {
      name: 'an attempt left RUNNING by a driver that died (lease expired)',
      copy: { status: 'RUNNING', attempts: 1 },
      lease: { owner: 'dead', expires_at: later(-1) },
      verdict: 'copy',
      attempts: 2,
    },
    {
      name: 'a backoff still running',
      copy: { status: 'PENDING', attempts: 1, retry_at: later(5000) },
      lease: null,
      verdict: 'waiting',
      attempts: 1,
    },
    {
      name: 'another live driver copying',
      copy: { status: 'RUNNING', attempts: 1 },
      lease: { owner: 'other', expires_at: later(5000) },
      verdict: 'busy',
      attempts: 1,
    },
    {
      name: 'every attempt interrupted',
      copy: { status: 'RUNNING', attempts: 3 },
      lease: null,
      verdict: 'exhausted',
      attempts: 3,
    },
  ] as const)('$name → $verdict', ({ copy, lease, verdict, attempts }) => {
    const s = waiting(copy as TaskState | undefined, lease);
    expect(claimCopy(s, opts, NOW)).toBe(verdict);
    expect(s.input_copy?.attempts ?? 0).toBe(attempts);
    if (verdict === 'copy') {
      expect(s.input_copy?.status).toBe('RUNNING');
      expect(s.lease?.owner).toBe('me');
    }
    if (verdict === 'exhausted') {
      expect(s.status).toBe('FAILED');
      expect(s.error?.code).toBe('SOURCE_COPY_INTERRUPTED');
    }
  });
});
