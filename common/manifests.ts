import { createHash } from 'node:crypto';
import { isFunctionStage, ROWS } from './contracts/pipeline.js';
import {
  type Manifest,
  manifestSchema,
  STAGE_CONTRACTS,
  type StageInput,
  type StageName,
} from './contracts/stages.js';
import { CorruptDataError, NotFoundError } from './errors.js';
import { type ResultKeys, requestKeys, resultKeys } from './keys.js';
import type { ObjectStore } from './storage/types.js';

/**
 * A stage's manifest (results/<ns>/<stage>/<digest>/manifest.json) is what it
 * writes last: it names the outputs and the task digest they were made for.
 * Everything that reads one reads it here, checked against the stage's
 * manifest schema.
 */

/** sha256 of JSON with sorted keys: the same input always gives the same digest. */
export function inputDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What names a task's results: the stage, its row's version and its input as
 * the stage's contract reads it, without the request id. A later stage's input
 * names its upstream outputs by key, and those keys contain the upstream
 * digests, so the digest covers everything upstream as well as the stage's own
 * settings (and the namespace: nothing is shared across namespaces).
 */
export function taskDigest<S extends StageName>(stage: S, input: StageInput<S>): string {
  const { request_id: _, ...shared } = input;
  return inputDigest({ stage, version: ROWS[stage].version, input: shared });
}

/** A task's digest and result keys; undefined when its input breaks the contract (the stage refuses it). */
export function taskResults(
  stage: StageName,
  input: unknown,
): { digest: string; keys: ResultKeys } | undefined {
  const parsed = STAGE_CONTRACTS[stage].input.safeParse(input);
  if (!parsed.success) return undefined;
  const digest = taskDigest(stage, parsed.data as StageInput<StageName>);
  return { digest, keys: resultKeys(parsed.data.namespace, stage, digest) };
}

/**
 * Where a task's manifest lives. A function stage's is in its shared results. A
 * stage the orchestrator runs itself (copy-source) keeps its record in the request,
 * requests/<id>/<stage>/manifest.json: a source is fetched and hashed for every
 * request (the same URI may name other bytes tomorrow); what it is made into is shared.
 */
export function taskManifest(stage: StageName, input: unknown): { digest: string; key: string } | undefined {
  const task = taskResults(stage, input);
  if (!task) return undefined;
  if (isFunctionStage(stage)) return { digest: task.digest, key: task.keys.manifest };
  const { request_id } = input as { request_id: string };
  return { digest: task.digest, key: requestKeys(request_id).localManifest(stage) };
}

async function fetchManifest<S extends StageName>(store: ObjectStore, stage: S, key: string) {
  const { value } = await store.getJson(key);
  return manifestSchema(stage).safeParse(value);
}

/** Writes a task's manifest at `key`: its last write, which says every output it names is complete. */
export async function writeManifest<S extends StageName>(
  store: ObjectStore,
  key: string,
  fields: Omit<Manifest<S>, 'schema_version'>,
): Promise<Manifest<S>> {
  const manifest = { schema_version: 1 as const, ...fields } as Manifest<S>;
  await store.put(key, JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  return manifest;
}

/** The manifest at `key`; undefined when there is none or it breaks its schema. */
export async function readManifest<S extends StageName>(
  store: ObjectStore,
  stage: S,
  key: string,
): Promise<Manifest<S> | undefined> {
  try {
    const parsed = await fetchManifest(store, stage, key);
    return parsed.success ? (parsed.data as Manifest<S>) : undefined;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * The manifest at `key` made for the task with this digest; undefined when
 * there is none, it breaks its schema or names another digest (the stage runs
 * again and replaces it).
 */
export async function readManifestFor<S extends StageName>(
  store: ObjectStore,
  stage: S,
  key: string,
  digest: string,
): Promise<Manifest<S> | undefined> {
  const manifest = await readManifest(store, stage, key);
  return manifest?.digest === digest ? manifest : undefined;
}

/**
 * A manifest that must be there (its task succeeded, and state.json recorded
 * its key): NotFoundError when it is not, CorruptDataError when it breaks its schema.
 */
export async function loadManifest<S extends StageName>(
  store: ObjectStore,
  stage: S,
  key: string,
): Promise<Manifest<S>> {
  const parsed = await fetchManifest(store, stage, key);
  if (!parsed.success) {
    throw new CorruptDataError('MANIFEST_INVALID', `${key} breaks the ${stage} manifest schema`, {
      details: { key, issues: parsed.error.issues },
    });
  }
  return parsed.data as Manifest<S>;
}
