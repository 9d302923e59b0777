import type { RequestState, TaskState } from '../contracts/state.js';

/** The plain JSON of a state, for one-off writes. */
export function stateJson(state: RequestState): string {
  return JSON.stringify(state);
}

/**
 * The JSON of a request's state, for a driver that writes the same state over
 * and over: each task's JSON is kept by object identity, so a flush of a
 * 40 000-task state serialises only the tasks that changed since the last one.
 *
 * Correct because the orchestrator's reducer replaces a task object to change
 * it (decide.ts `editTask`). A kept task is frozen, so code that breaks that
 * rule fails loudly instead of writing a stale task.
 */
export class StateJsonWriter {
  private readonly fragments = new Map<string, { task: TaskState; json: string }>();

  serialize(state: RequestState): string {
    const { tasks, ...rest } = state;
    const parts: string[] = [];
    for (const key in tasks) {
      const task = tasks[key]!;
      let fragment = this.fragments.get(key);
      if (fragment?.task !== task) {
        fragment = { task: Object.freeze(task), json: `${JSON.stringify(key)}:${JSON.stringify(task)}` };
        this.fragments.set(key, fragment);
      }
      parts.push(fragment.json);
    }
    // The tasks go last: the small, human-interesting fields stay at the top of the file.
    return `${JSON.stringify(rest).slice(0, -1)},"tasks":{${parts.join(',')}}}`;
  }

  /** Lets go of the kept JSON (as much again as the state's tasks), once no more writes follow. */
  clear(): void {
    this.fragments.clear();
  }
}
