import { isFunctionStage, type LocalStageName } from '../../common/contracts/pipeline.js';
import type { Profile } from '../../common/contracts/profile.js';
import {
  STAGE_CONTRACTS,
  type StageInput,
  type StageName,
  type StageOutput,
} from '../../common/contracts/stages.js';
import { RetryableError, toClipseekError } from '../../common/errors.js';
import { resultKeys } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import { loadManifest, readManifestFor, taskManifest, writeManifest } from '../../common/manifests.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { parseTaskKey, type TaskKey } from '../../common/task-key.js';
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
  namespace: string;
  requestId: string;
  videoUri: string;
  profile: Profile;
}

/**
 * Outputs of finished tasks, kept until every task that needs them has built
 * its input (a per-clip output is dropped after its last dependent read it;
 * request-level outputs stay). What is not here — a resumed request, a retried
 * dependent — is read from the manifest state.json recorded for the task.
 */
export class OutputCache {
  /** A promise, so that tasks starting together share one read of a manifest. */
  private readonly entries = new Map<TaskKey, { output: Promise<unknown>; readsLeft: number }>();
  constructor(
    private readonly store: ObjectStore,
    /** The manifest key recorded for a succeeded task (the current state.json's). */
    private readonly manifestOf: (key: TaskKey) => string | undefined,
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
      const manifest = this.manifestOf(key);
      const read = manifest
        ? loadManifest(this.store, stage, manifest).then((m) => m.output)
        : Promise.reject(new Error(`${key} has no manifest recorded`));
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
 * Runs one task: builds its input from its dependencies' outputs, reuses the
 * manifest at the task's digest when there is one (made by another request
 * with the same video and settings, or by this one before a resume: one read
 * per task, nothing invoked), and otherwise invokes the stage through the
 * gateway, or runs it here (a row the orchestrator runs itself: `local`).
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
    // An input that breaks its contract has no digest: the stage is called and refuses it.
    const task = taskManifest(ref.stage, input);
    // The look is what saves the call, not what makes it right: a stage looks again under its
    // claim. So a look that fails (storage throttling) calls the stage instead of failing the task.
    const existing =
      task &&
      (await readManifestFor(deps.store, ref.stage, task.key, task.digest).catch((err: unknown) => {
        deps.logger.warn(
          { task: key, err },
          'could not look for the results at this digest; running the task',
        );
        return undefined;
      }));
    if (task && existing) {
      deps.logger.info({ task: key, digest: task.digest }, 'reusing the results at this digest');
      return succeeded(key, ref.stage, task.key, existing, deps.now(), 0, true);
    }
    onStart();
    if (!isFunctionStage(ref.stage)) {
      const made = await runLocal(ref.stage, input, task, deps, signal);
      return succeeded(key, ref.stage, made.key, made.manifest, deps.now(), Date.now() - started, false);
    }
    const manifest = await deps.invoke(ref.stage, input, {
      timeoutMs: ctx.profile.run.stage_timeout_s[ref.stage] * 1000,
      callId: `${ctx.requestId}.${key.replace('/', '.')}.${Date.now().toString(36)}`,
      signal,
    });
    const checked = { ...manifest, output: STAGE_CONTRACTS[ref.stage].output.parse(manifest.output) };
    // The key from the digest the stage answered: where the stage that made it wrote it.
    const at = resultKeys(ctx.namespace, ref.stage, manifest.digest).manifest;
    // A call that waited on another request's claim answers with that request's manifest.
    const madeElsewhere = manifest.request_id !== ctx.requestId;
    return succeeded(key, ref.stage, at, checked, deps.now(), Date.now() - started, madeElsewhere);
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
  manifestKey: string,
  manifest: { digest: string; output: unknown },
  at: Date,
  durationMs: number,
  reused: boolean,
): TaskOutcome {
  const { output, digest } = manifest;
  const clips = clipsOf(stage, output);
  return {
    event: {
      type: 'task-succeeded',
      key,
      at: at.toISOString(),
      manifest: manifestKey,
      digest,
      duration_ms: durationMs,
      reused,
      ...(clips ? { clips } : {}),
    },
    output,
  };
}

/** Runs a task here and records its manifest (the request's own: taskManifest), as a function records its own. */
async function runLocal(
  stage: LocalStageName,
  rawInput: unknown,
  at: { key: string; digest: string } | undefined,
  deps: TaskRunnerDeps & { local: LocalTasks },
  signal: AbortSignal,
): Promise<{ key: string; manifest: { digest: string; output: unknown } }> {
  const started = Date.now();
  const contract = STAGE_CONTRACTS[stage];
  const input = contract.input.parse(rawInput);
  if (!at) throw new Error(`${stage}: an input that parses has a digest`);
  const output = contract.output.parse(await deps.local[stage](input, signal));
  const manifest = await writeManifest(deps.store, at.key, {
    stage,
    request_id: input.request_id,
    clip: null,
    digest: at.digest,
    created_at: deps.now().toISOString(),
    duration_ms: Date.now() - started,
    output,
  });
  return { key: at.key, manifest };
}
