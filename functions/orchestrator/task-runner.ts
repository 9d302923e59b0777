import type { Profile } from '../../common/contracts/profile.js';
import { STAGE_CONTRACTS, type StageName } from '../../common/contracts/stages.js';
import { toClipseekError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { inputDigest, manifestKey } from '../../common/stage.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { buildInput, dependenciesOf, parseTaskKey, type TaskKey } from './dag.js';
import type { OrchestratorEvent } from './decide.js';
import type { StageInvoker } from './invoker.js';

export interface TaskRunnerDeps {
  store: ObjectStore;
  invoke: StageInvoker;
  logger: Logger;
  now: () => Date;
  random: () => number;
}

export interface TaskContext {
  requestId: string;
  sourceKey: string;
  profile: Profile;
  /** True unless this is the first driver of the request and the task's first attempt. */
  mayHaveOrphans: boolean;
}

/** Outputs of finished tasks, read from their manifests on demand and kept in a small LRU. */
export class OutputCache {
  private readonly entries = new Map<TaskKey, unknown>();
  constructor(
    private readonly store: ObjectStore,
    private readonly requestId: string,
    private readonly capacity = 512,
  ) {}

  set(key: TaskKey, output: unknown): void {
    this.entries.delete(key);
    this.entries.set(key, output);
    if (this.entries.size > this.capacity) {
      // Request-level outputs (no "/") are needed by every clip: never evict them.
      for (const k of this.entries.keys()) {
        if (k.includes('/')) {
          this.entries.delete(k);
          break;
        }
      }
    }
  }

  async get(key: TaskKey): Promise<unknown> {
    if (this.entries.has(key)) return this.entries.get(key);
    const { stage, clip } = parseTaskKey(key);
    const { value } = await this.store.getJson<{ output: unknown }>(manifestKey(stage, this.requestId, clip));
    this.set(key, value.output);
    return value.output;
  }
}

export type TaskOutcome = { event: OrchestratorEvent; output?: unknown };

/**
 * Runs one task: builds its input from its dependencies' outputs, adopts the
 * stage's manifest when one already exists for that very input (work finished
 * while no orchestrator was watching), and otherwise invokes the stage through
 * the gateway. `onStart` is called just before an invocation. Never throws:
 * failures come back as a task-failed event.
 */
export async function runTask(
  key: TaskKey,
  ctx: TaskContext,
  cache: OutputCache,
  deps: TaskRunnerDeps,
  onStart: () => void,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  const ref = parseTaskKey(key);
  const started = Date.now();
  try {
    const depOutputs = new Map<TaskKey, unknown>();
    for (const dep of dependenciesOf(ref)) depOutputs.set(dep, await cache.get(dep));
    const input = buildInput(ref, ctx, depOutputs);
    const mKey = manifestKey(ref.stage, ctx.requestId, ref.clip);

    // Only a resumed request (a driver ran before) or a retried task can have a manifest this
    // driver has not seen; on a first run the check would be a wasted read per task.
    const adopted = ctx.mayHaveOrphans ? await adoptable(deps.store, mKey, ref.stage, input) : undefined;
    if (adopted !== undefined) {
      deps.logger.info({ task: key }, 'adopting existing manifest');
      return succeeded(key, ref.stage, mKey, adopted, deps.now(), 0, true);
    }
    onStart();
    const manifest = await deps.invoke(ref.stage, input, {
      timeoutMs: ctx.profile.run.stage_timeout_s[ref.stage] * 1000,
      callId: `${ctx.requestId}.${key.replace('/', '.')}.${Date.now().toString(36)}`,
      signal,
    });
    const output = STAGE_CONTRACTS[ref.stage].output.parse(manifest.output);
    return succeeded(key, ref.stage, mKey, output, deps.now(), Date.now() - started, false);
  } catch (err) {
    const e = toClipseekError(err);
    deps.logger.warn({ task: key, code: e.code, retryable: e.retryable, err: e.message }, 'task failed');
    return {
      event: {
        type: 'task-failed',
        key,
        at: deps.now().toISOString(),
        error: {
          code: e.code,
          message: e.message,
          details: e.details,
          retryable: e.retryable,
          status: e.status,
        },
        jitter: deps.random(),
        ...(e instanceof Error && 'retryAfterMs' in e && typeof e.retryAfterMs === 'number'
          ? { retry_after_ms: e.retryAfterMs }
          : {}),
      },
    };
  }
}

function succeeded(
  key: TaskKey,
  stage: StageName,
  manifest: string,
  output: unknown,
  at: Date,
  durationMs: number,
  adopted: boolean,
): TaskOutcome {
  const clips =
    stage === 'cut-clips'
      ? (output as { pieces: Array<{ index: number }> }).pieces.map((p) => p.index)
      : undefined;
  return {
    event: {
      type: 'task-succeeded',
      key,
      at: at.toISOString(),
      manifest,
      duration_ms: durationMs,
      adopted,
      ...(clips ? { clips } : {}),
    },
    output,
  };
}

/** The output of an existing manifest made from exactly this input, if any. */
async function adoptable(
  store: ObjectStore,
  key: string,
  stage: StageName,
  input: unknown,
): Promise<unknown> {
  if (!(await store.head(key))) return undefined;
  const { value } = await store.getJson<{ input_digest?: string; output?: unknown }>(key);
  const parsedInput = STAGE_CONTRACTS[stage].input.safeParse(input);
  if (!parsedInput.success || value.input_digest !== inputDigest(parsedInput.data)) return undefined;
  const output = STAGE_CONTRACTS[stage].output.safeParse(value.output);
  return output.success ? output.data : undefined;
}
