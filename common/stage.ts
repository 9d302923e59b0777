import {
  type Manifest,
  STAGE_CONTRACTS,
  type StageInput,
  type StageName,
  type StageOutput,
} from './contracts/stages.js';
import { InputError, InternalError } from './errors.js';
import { requestKeys } from './keys.js';
import type { Logger } from './logger.js';
import { inputDigest, readManifestFor, writeManifest } from './manifests.js';
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

/**
 * A stage is its contract (name → input/output schemas in STAGE_CONTRACTS)
 * plus a `run` that is pure apart from the dependencies it is handed.
 */
export interface StageDefinition<S extends StageName, D = object> {
  name: S;
  run(input: StageInput<S>, deps: D & StageContext): Promise<StageOutput<S>>;
}

export function defineStage<S extends StageName, D = object>(
  def: StageDefinition<S, D>,
): StageDefinition<S, D> {
  return def;
}

/**
 * Runs a stage at most once per input: if its manifest exists for the same
 * input digest, that manifest is the answer and nothing runs. Otherwise the
 * stage runs, its output is validated, and the manifest is written last — its
 * presence means every output it names is complete. Every write goes through
 * a StageWriteGuard, so a call that outlives its request changes nothing.
 */
export async function runStageOnce<S extends StageName, D>(
  stage: StageDefinition<S, D>,
  rawInput: unknown,
  deps: D & StageContext,
): Promise<{ manifest: Manifest<S>; reused: boolean }> {
  const contract = STAGE_CONTRACTS[stage.name];
  const parsedInput = contract.input.safeParse(rawInput);
  if (!parsedInput.success) {
    throw new InputError('INVALID_INPUT', `invalid ${stage.name} input`, {
      details: { issues: parsedInput.error.issues },
    });
  }
  const input = parsedInput.data as StageInput<S>;
  const clip = 'clip' in input && typeof input.clip === 'number' ? input.clip : undefined;
  const digest = inputDigest(input);
  const existing = await readManifestFor(deps.store, stage.name, input.request_id, clip, digest);
  if (existing) {
    deps.logger.info({ stage: stage.name, clip }, 'manifest exists for this input; reusing it');
    return { manifest: existing, reused: true };
  }
  const claim = await claimOrWait(
    {
      store: deps.store,
      key: requestKeys(input.request_id).stageFile(stage.name, 'claim.json', clip),
      ttlMs: deps.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS,
      now: deps.now,
      signal: deps.signal,
      logger: deps.logger,
    },
    () => readManifestFor(deps.store, stage.name, input.request_id, clip, digest),
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
    const manifest = await runAndRecord(stage, input, clip, digest, { ...deps, store: guard.store });
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
  clip: number | undefined,
  digest: string,
  deps: D & StageContext,
): Promise<Manifest<S>> {
  const contract = STAGE_CONTRACTS[stage.name];
  const started = Date.now();
  const parsedOutput = contract.output.safeParse(await stage.run(input, deps));
  if (!parsedOutput.success) {
    // A bug in the stage, not in the input: retrying will not help.
    throw new InternalError(`${stage.name} produced output that breaks its contract`, {
      retryable: false,
      details: { issues: parsedOutput.error.issues },
    });
  }
  return writeManifest(deps.store, {
    stage: stage.name,
    request_id: input.request_id,
    clip: clip ?? null,
    input_digest: digest,
    created_at: deps.now().toISOString(),
    duration_ms: Date.now() - started,
    output: parsedOutput.data as StageOutput<S>,
  } as Omit<Manifest<S>, 'schema_version'>);
}
