import { isFunctionStage, type LocalStageName } from '../../common/contracts/pipeline.js';
import type { Profile } from '../../common/contracts/profile.js';
import {
  STAGE_CONTRACTS,
  type StageInput,
  type StageName,
  type StageOutput,
} from '../../common/contracts/stages.js';
import { RetryableError, toClipseekError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import {
  inputDigest,
  loadManifest,
  manifestKey,
  readManifestFor,
  stageInputDigest,
  writeManifest,
} from '../../common/manifests.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { parseTaskKey, type TaskKey, type TaskRef } from '../../common/task-key.js';
import { buildInput, clipsOf, dependenciesOf, dependentsOf } from './dag.js';
import type { OrchestratorEvent } from './decide.js';
import type { StageInvoker } from './invoker.js';

/** The effect of a task the orchestrator runs itself; aborting `signal` stops it. */
export type LocalTask<S extends LocalStageName> = (
  input: StageInput<S>,
  signal: AbortSignal,
) => Promise<StageOutput<S>>;
/** One effect per row run by the orchestrator (TypeScript refuses a missing one). */
export type LocalTasks = { [S in LocalStageName]: LocalTask<S> };

export interface TaskRunnerDeps {
  store: ObjectStore;
  invoke: StageInvoker;
  logger: Logger;
  now: () => Date;
  random: () => number;
}

export interface TaskContext {
  requestId: string;
  videoUri: string;
  profile: Profile;
  /** True unless this is the first driver of the request and the task's first attempt. */
  mayHaveOrphans: boolean;
}

/**
 * Outputs of finished tasks, kept until every task that needs them has built
 * its input (a per-clip output is dropped after its last dependent read it;
 * request-level outputs stay). What is not here — a resumed request, a retried
 * dependent — is read from the task's manifest in the bucket.
 */
export class OutputCache {
  /** A promise, so that tasks starting together share one read of a manifest. */
  private readonly entries = new Map<TaskKey, { output: Promise<unknown>; readsLeft: number }>();
  constructor(
    private readonly store: ObjectStore,
    private readonly requestId: string,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  set(key: TaskKey, output: unknown): void {
    this.keep(key, Promise.resolve(output));
  }

  get(key: TaskKey): Promise<unknown> {
    let entry = this.entries.get(key);
    if (!entry) {
      const { stage, clip } = parseTaskKey(key);
      const read = loadManifest(this.store, stage, this.requestId, clip).then((m) => m.output);
      // A request-level output (cut-clips: every clip needs it) is kept; a per-clip one
      // read again here is for a retry or a resume, and its other readers may be long done.
      entry = clip === undefined ? this.keep(key, read) : undefined;
      if (entry) read.catch(() => this.entries.delete(key));
      entry ??= { output: read, readsLeft: 1 };
    }
    if (--entry.readsLeft <= 0) this.entries.delete(key);
    return entry.output;
  }

  private keep(key: TaskKey, output: Promise<unknown>) {
    const ref = parseTaskKey(key);
    const readsLeft = ref.clip === undefined ? Number.POSITIVE_INFINITY : dependentsOf(ref, []).length;
    if (readsLeft <= 0) return undefined;
    const entry = { output, readsLeft };
    this.entries.set(key, entry);
    return entry;
  }
}

export type TaskOutcome = { event: OrchestratorEvent; output?: unknown };

/**
 * Runs one task: builds its input from its dependencies' outputs, adopts the
 * stage's manifest when one already exists for that very input (work finished
 * while no orchestrator was watching), and otherwise invokes the stage through
 * the gateway, or runs it here (a row the orchestrator runs itself: `local`).
 * `onStart` is called just before. Never throws: failures come back as a
 * task-failed event.
 */
export async function runTask(
  key: TaskKey,
  ctx: TaskContext,
  cache: OutputCache,
  deps: TaskRunnerDeps & { local: LocalTasks },
  onStart: () => void,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  const started = Date.now();
  try {
    const ref = parseTaskKey(key);
    const depOutputs = new Map<TaskKey, unknown>();
    for (const dep of dependenciesOf(ref)) depOutputs.set(dep, await cache.get(dep));
    const input = buildInput(ref, ctx, depOutputs);
    const mKey = manifestKey(ref.stage, ctx.requestId, ref.clip);

    // Only a resumed request (a driver ran before) or a retried task can have a manifest this
    // driver has not seen; on a first run the check would be a wasted read per task.
    const adopted = ctx.mayHaveOrphans ? await adoptable(deps.store, ref, ctx.requestId, input) : undefined;
    if (adopted !== undefined) {
      deps.logger.info({ task: key }, 'adopting existing manifest');
      return succeeded(key, ref.stage, mKey, adopted, deps.now(), 0, true);
    }
    onStart();
    const output = isFunctionStage(ref.stage)
      ? STAGE_CONTRACTS[ref.stage].output.parse(
          (
            await deps.invoke(ref.stage, input, {
              timeoutMs: ctx.profile.run.stage_timeout_s[ref.stage] * 1000,
              callId: `${ctx.requestId}.${key.replace('/', '.')}.${Date.now().toString(36)}`,
              signal,
            })
          ).output,
        )
      : await runLocal(ref.stage, input, ctx.requestId, deps, signal);
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
        ...(e instanceof RetryableError && e.retryAfterMs !== undefined
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
  const clips = clipsOf(stage, output);
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

/** Runs a task here and records its manifest, as a function records its own. */
async function runLocal(
  stage: LocalStageName,
  rawInput: unknown,
  requestId: string,
  deps: TaskRunnerDeps & { local: LocalTasks },
  signal: AbortSignal,
): Promise<unknown> {
  const started = Date.now();
  const contract = STAGE_CONTRACTS[stage];
  const input = contract.input.parse(rawInput);
  const output = contract.output.parse(await deps.local[stage](input, signal));
  await writeManifest(deps.store, {
    stage,
    request_id: requestId,
    clip: null,
    input_digest: inputDigest(input),
    created_at: deps.now().toISOString(),
    duration_ms: Date.now() - started,
    output,
  });
  return output;
}

/** The output of an existing manifest made from exactly this input, if any. */
async function adoptable(
  store: ObjectStore,
  ref: TaskRef,
  requestId: string,
  input: unknown,
): Promise<unknown> {
  const digest = stageInputDigest(ref.stage, input);
  if (digest === undefined) return undefined;
  return (await readManifestFor(store, ref.stage, requestId, ref.clip, digest))?.output;
}
