import { createHash } from 'node:crypto';
import { type Manifest, manifestSchema, STAGE_CONTRACTS, type StageName } from './contracts/stages.js';
import { CorruptDataError, NotFoundError } from './errors.js';
import { requestKeys } from './keys.js';
import type { ObjectStore } from './storage/types.js';

/**
 * A stage's manifest (requests/{id}/<stage>/[<clip>/]manifest.json) is what
 * it writes last: it names the outputs and the digest of the input they were
 * made from. Everything that reads one reads it here, checked against the
 * stage's manifest schema.
 */
export function manifestKey(stage: StageName, requestId: string, clip: number | undefined): string {
  return requestKeys(requestId).manifest(stage, clip);
}

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

/** The digest a manifest made from `input` records: of the input as its stage's contract reads it; undefined when it breaks the contract. */
export function stageInputDigest(stage: StageName, input: unknown): string | undefined {
  const parsed = STAGE_CONTRACTS[stage].input.safeParse(input);
  return parsed.success ? inputDigest(parsed.data) : undefined;
}

async function fetchManifest<S extends StageName>(
  store: ObjectStore,
  stage: S,
  requestId: string,
  clip: number | undefined,
) {
  const key = manifestKey(stage, requestId, clip);
  const { value } = await store.getJson(key);
  return { key, parsed: manifestSchema(stage).safeParse(value) };
}

/** Writes a stage's manifest: its last write, which says every output it names is complete. */
export async function writeManifest<S extends StageName>(
  store: ObjectStore,
  fields: Omit<Manifest<S>, 'schema_version'>,
): Promise<Manifest<S>> {
  const manifest = { schema_version: 1 as const, ...fields } as Manifest<S>;
  const key = manifestKey(fields.stage, fields.request_id, fields.clip ?? undefined);
  await store.put(key, JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  return manifest;
}

/** A stage's manifest; undefined when there is none or it breaks its schema (the stage runs again and replaces it). */
export async function readManifest<S extends StageName>(
  store: ObjectStore,
  stage: S,
  requestId: string,
  clip: number | undefined,
): Promise<Manifest<S> | undefined> {
  try {
    const { parsed } = await fetchManifest(store, stage, requestId, clip);
    return parsed.success ? (parsed.data as Manifest<S>) : undefined;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** A stage's manifest made from the input with this digest, if there is one. */
export async function readManifestFor<S extends StageName>(
  store: ObjectStore,
  stage: S,
  requestId: string,
  clip: number | undefined,
  digest: string,
): Promise<Manifest<S> | undefined> {
  const manifest = await readManifest(store, stage, requestId, clip);
  return manifest?.input_digest === digest ? manifest : undefined;
}

/** A manifest that must be there (its task succeeded): NotFoundError when it is not, CorruptDataError when it breaks its schema. */
export async function loadManifest<S extends StageName>(
  store: ObjectStore,
  stage: S,
  requestId: string,
  clip: number | undefined,
): Promise<Manifest<S>> {
  const { key, parsed } = await fetchManifest(store, stage, requestId, clip);
  if (!parsed.success) {
    throw new CorruptDataError('MANIFEST_INVALID', `${key} breaks the ${stage} manifest schema`, {
      details: { key, issues: parsed.error.issues },
    });
  }
  return parsed.data as Manifest<S>;
}
