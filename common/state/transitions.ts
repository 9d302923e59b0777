import type { RequestStatus } from '../contracts/request.js';
import type { RequestState, TaskStatus } from '../contracts/state.js';
import { ClipseekError } from '../errors.js';

/**
 * The allowed moves. A task goes back from RUNNING (or FAILED, on a retry) to
 * PENDING; SUCCEEDED is final. A request may be resumed from RUNNING only.
 */
const TASK_MOVES: Record<TaskStatus, readonly TaskStatus[]> = {
  PENDING: ['RUNNING', 'SUCCEEDED', 'FAILED'],
  RUNNING: ['PENDING', 'SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: ['PENDING'],
};

const REQUEST_MOVES: Record<RequestStatus, readonly RequestStatus[]> = {
  INIT: ['RUNNING', 'FAILED', 'CANCELLED', 'EXPIRED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
  EXPIRED: [],
};

export class InvalidTransitionError extends ClipseekError {
  constructor(what: string, from: string, to: string) {
    super('INVALID_TRANSITION', `${what}: ${from} → ${to} is not allowed`, {
      status: 409,
      retryable: false,
      details: { what, from, to },
    });
  }
}

export function assertTaskTransition(task: string, from: TaskStatus, to: TaskStatus): void {
  if (!TASK_MOVES[from].includes(to)) throw new InvalidTransitionError(`task ${task}`, from, to);
}

export function assertRequestTransition(from: RequestStatus, to: RequestStatus): void {
  if (!REQUEST_MOVES[from].includes(to)) throw new InvalidTransitionError('request', from, to);
}

export function isTerminal(status: RequestStatus): boolean {
  return REQUEST_MOVES[status].length === 0;
}

/**
 * True while an unfinished request waits out the backoff before its source is
 * copied again (input_copy.retry_at): a resume before then does nothing.
 */
export function waitsToCopyInput(state: RequestState, now: Date): boolean {
  const at = state.input_copy?.retry_at;
  return !state.input_key && !isTerminal(state.status) && at !== undefined && Date.parse(at) > now.getTime();
}
