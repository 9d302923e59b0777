import type { TaskStatus } from '../contracts/state.js';
import { ClipseekError } from '../errors.js';

/**
 * The allowed moves of a task. A task goes back from RUNNING (or FAILED, on a
 * retry) to PENDING; SUCCEEDED is final. (A request's moves: lifecycle.ts.)
 */
const TASK_MOVES: Record<TaskStatus, readonly TaskStatus[]> = {
  PENDING: ['RUNNING', 'SUCCEEDED', 'FAILED'],
  RUNNING: ['PENDING', 'SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: ['PENDING'],
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
