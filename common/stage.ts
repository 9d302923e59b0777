import {
  type Manifest,
  STAGE_CONTRACTS,
  type StageInput,
  type StageName,
  type StageOutput,
} from './contracts/stages.js';
import { InputError, InternalError } from './errors.js';
import { type ResultKeys, resultKeys } from './keys.js';
import type { Logger } from './logger.js';
import { readManifestFor, taskDigest, writeManifest } from './manifests.js';
import { claimOrWait } from './stage-claim.js';
import { StageWriteGuard } from './stage-guard.js';
import type { ObjectStore } from './storage/types.js';

/** What every stage gets from its runtime, besides its own dependencies. */
export interface StageContext {
  store: ObjectStore;
  logger: Logger;
  signal: AbortSignal;
  now: () => Date;
  /** How long a task's claim lives without renewal (see stage-claim.ts). Default 15 s. */
  claimTtlMs?: number;
}

export const DEFAULT_CLAIM_TTL_MS = 15_000;

/** What a stage's `run` gets on top of its context: where its task's outputs go. */
export interface StageRunContext extends StageContext {
  /** The key of one output file in the task's own results directory (results/<ns>/<stage>/<digest>/). */
  outputKey(fileName: string): string;
}

/**
 * A stage is its contract (name → input/output schemas in STAGE_CONTRACTS)
 * plus a `run` that is pure apart from the dependencies it is handed.
 */
export interface StageDefinition<S extends StageName, D = object> {
  name: S;
  run(input: StageInput<S>, deps: D & StageRunContext): Promise<StageOutput<S>>;
}

export function defineStage<S extends StageName, D = object>(
  def: StageDefinition<S, D>,
): StageDefinition<S, D> {
  return def;
}

/**
 * Runs a stage at most once per task digest (manifests.ts taskDigest): if the
 * manifest at the digest exists, it is the answer and nothing runs — whichever
 * request made it. Otherwise the call takes the task's claim (a second call for
 * the same digest, from this request or another, waits for the first one's
 * manifest), the stage runs with its outputs under the digest's directory, its
 * output is validated, and the manifest is written last — its presence means
 * every output it names is complete. Every write goes through a
 * StageWriteGuard, so a call that outlives its request changes nothing.
 */
export async function runStageOnce<S extends StageName, D>(
  stage: StageDefinition<S, D>,
  rawInput: unknown,
  deps: D & StageContext,
): Promise<{ manifest: Manifest<S>; reused: boolean }> {
  const parsedInput = STAGE_CONTRACTS[stage.name].input.safeParse(rawInput);
  if (!parsedInput.success) {
    throw new InputError('INVALID_INPUT', `invalid ${stage.name} input`, {
      details: { issues: parsedInput.error.issues },
    });
  }
  const input = parsedInput.data as StageInput<S>;
  const digest = taskDigest(stage.name, input);
  const keys = resultKeys(input.namespace, stage.name, digest);
  const finished = () => readManifestFor(deps.store, stage.name, keys.manifest, digest);
  const existing = await finished();
  if (existing) {
    deps.logger.info({ stage: stage.name, digest }, 'manifest exists for this task; reusing it');
    return { manifest: existing, reused: true };
  }
  const claim = await claimOrWait(
    {
      store: deps.store,
      key: keys.claim,
      ttlMs: deps.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS,
      now: deps.now,
      signal: deps.signal,
      logger: deps.logger,
    },
    finished,
  );
  if (claim.kind === 'done') return { manifest: claim.value, reused: true };
  const guard = new StageWriteGuard({
    store: deps.store,
    requestId: input.request_id,
    claim,
    logger: deps.logger,
  });
  try {
    await guard.check(); // a call that arrives after its request finished does no work
    const manifest = await runAndRecord(stage, input, digest, keys, { ...deps, store: guard.store });
    // Once more after the manifest: a request that finished while it was written gets nothing.
    await guard.check();
    return { manifest, reused: false };
  } finally {
    await claim.release();
  }
}

async function runAndRecord<S extends StageName, D>(
  stage: StageDefinition<S, D>,
  input: StageInput<S>,
  digest: string,
  keys: ResultKeys,
  deps: D & StageContext,
): Promise<Manifest<S>> {
  const contract = STAGE_CONTRACTS[stage.name];
  const started = Date.now();
  const parsedOutput = contract.output.safeParse(await stage.run(input, { ...deps, outputKey: keys.file }));
  if (!parsedOutput.success) {
    // A bug in the stage, not in the input: retrying will not help.
    throw new InternalError(`${stage.name} produced output that breaks its contract`, {
      retryable: false,
      details: { issues: parsedOutput.error.issues },
    });
  }
  const clip = 'clip' in input && typeof input.clip === 'number' ? input.clip : null;
  return writeManifest(deps.store, keys.manifest, {
    stage: stage.name,
    request_id: input.request_id,
    clip,
    digest,
    created_at: deps.now().toISOString(),
    duration_ms: Date.now() - started,
    output: parsedOutput.data as StageOutput<S>,
  } as Omit<Manifest<S>, 'schema_version'>);
}
