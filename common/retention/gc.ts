/**
 * Garbage collection of shared stage results: `clipseek gc` and the
 * orchestrator's `{"gc": …}` call run this one function.
 *
 * Mark (references.ts): every result folder a request's state.json, a
 * copy-source record or a video index document names. Scan: every folder
 * under results/ (or results/<ns>/), with its newest object and its claim.
 * A folder is deleted when nothing names it, no task holds a live claim on it
 * and nothing in it was written since the cut-off.
 *
 * A request accepted while gc runs may adopt an old folder gc is about to
 * delete. So the sweep first deletes the candidates' manifests (from then on a
 * task looking for one runs its stage instead), waits `settleMs` for drivers to
 * record what they adopted before, marks again, and puts back the manifest of
 * any folder that is now named. It deletes a folder's objects under a claim of
 * its own (the stages' single-flight claim, stage-claim.ts), so no stage writes
 * into it meanwhile, and leaves alone a folder in which something was written
 * since the scan (a stage running the same task again).
 */
import pLimit from 'p-limit';
import { ageMs, type GcOptions, type GcReport } from '../contracts/retention.js';
import { ConflictError, CorruptDataError, NotFoundError } from '../errors.js';
import { REQUESTS_ROOT, RESULTS_ROOT, requestKeyOf, resultDirOf, resultsPrefix } from '../keys.js';
import type { ObjectInfo, ObjectStore } from '../storage/types.js';
import { type Marks, markReferenced } from './references.js';

export { GcRefusedError } from './references.js';

/** Deletes (and reads) at once. */
const PARALLEL = 8;
const REPORTED_KEYS = 1000;
/** The orchestrator records a task within its STATE_FLUSH_MS (0.5 s by default); this leaves room. */
export const DEFAULT_SETTLE_MS = 5000;

export interface GcProgress {
  phase: 'mark' | 'scan' | 'sweep' | 'done';
  /** Folders swept so far, of `total` (sweep). */
  done: number;
  total: number;
  objects: number;
  bytes: number;
}

export interface GcDeps {
  store: ObjectStore;
  now: () => Date;
  /** Between hiding the candidates' manifests and marking again (see above). */
  settleMs: number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (progress: GcProgress) => void;
}

interface Folder {
  dir: string;
  objects: number;
  bytes: number;
  newest: number;
  claimed: boolean;
}

/** Collects what nothing references; `namespace` undefined: every namespace. */
export async function collectGarbage(
  options: GcOptions & { namespace?: string | undefined },
  deps: GcDeps,
): Promise<GcReport> {
  const { store } = deps;
  const cutoff = deps.now().getTime() - ageMs(options.older_than);
  const progress = (p: Partial<GcProgress> & Pick<GcProgress, 'phase'>) =>
    deps.onProgress?.({ done: 0, total: 0, objects: 0, bytes: 0, ...p });

  progress({ phase: 'mark' });
  const marks = await markReferenced(store, options.namespace);
  progress({ phase: 'scan' });
  const folders = await scan(
    store,
    options.namespace === undefined ? RESULTS_ROOT : resultsPrefix(options.namespace),
  );
  const report: GcReport = {
    dry_run: options.dry_run,
    older_than: options.older_than,
    cutoff: new Date(cutoff).toISOString(),
    namespace: options.namespace ?? null,
    marked: { requests: marks.requests, documents: marks.documents, dirs: marks.dirs.size },
    scanned: {
      dirs: folders.length,
      objects: sum(folders, (f) => f.objects),
      bytes: sum(folders, (f) => f.bytes),
    },
    kept: { referenced: 0, claimed: 0, young: 0, raced: 0 },
    deleted: { dirs: 0, inputs: 0, objects: 0, bytes: 0, keys: [] },
  };
  const candidates: Folder[] = [];
  for (const folder of folders) {
    if (marks.dirs.has(folder.dir)) report.kept.referenced++;
    else if (folder.claimed && (await claimLive(store, folder.dir, deps.now()))) report.kept.claimed++;
    else if (folder.newest >= cutoff) report.kept.young++;
    else candidates.push(folder);
  }
  const inputs = await leftoverInputs(store, marks, cutoff);

  const deleted = report.deleted;
  const record = (key: string, objects: number, bytes: number) => {
    deleted.objects += objects;
    deleted.bytes += bytes;
    if (deleted.keys.length < REPORTED_KEYS) deleted.keys.push(key);
  };
  if (options.dry_run) {
    for (const f of candidates) record(f.dir, f.objects, f.bytes);
    for (const o of inputs) record(o.key, 1, o.size);
    deleted.dirs = candidates.length;
    deleted.inputs = inputs.length;
    progress({ phase: 'done', done: candidates.length, total: candidates.length, ...counts(deleted) });
    return report;
  }

  const limit = pLimit(PARALLEL);
  const hidden = new Map<string, Buffer | undefined>();
  await Promise.all(
    candidates.map((f) => limit(async () => hidden.set(f.dir, await hideManifest(store, f.dir)))),
  );
  if (candidates.length) await (deps.sleep ?? sleep)(deps.settleMs);
  let again = marks;
  try {
    if (candidates.length) again = await markReferenced(store, options.namespace);
  } catch (err) {
    // Refused (a reference became unreadable) or the store failed: every folder stays as it was.
    await Promise.all(
      [...hidden].map(([dir, bytes]) => limit(async () => bytes && restoreManifest(store, dir, bytes))),
    );
    throw err;
  }
  let done = 0;
  await Promise.all(
    candidates.map((f) =>
      limit(async () => {
        const manifest = hidden.get(f.dir);
        const swept = again.dirs.has(f.dir) ? undefined : await sweepFolder(store, f, deps.now());
        if (swept) {
          record(f.dir, swept.objects + (manifest ? 1 : 0), swept.bytes + (manifest?.length ?? 0));
          deleted.dirs++;
        } else {
          // Kept as it was: named again, claimed by a task, or written to since the scan.
          report.kept.raced++;
          if (manifest) await restoreManifest(store, f.dir, manifest);
        }
        progress({ phase: 'sweep', done: ++done, total: candidates.length, ...counts(deleted) });
      }),
    ),
  );
  await Promise.all(
    inputs.map((o) =>
      limit(async () => {
        await store.delete(o.key);
        record(o.key, 1, o.size);
        deleted.inputs++;
      }),
    ),
  );
  progress({ phase: 'done', done, total: candidates.length, ...counts(deleted) });
  return report;
}

/** How long gc's own claim on a folder it deletes lasts, should gc stop halfway. */
const CLAIM_TTL_MS = 60_000;

/**
 * Deletes a folder's objects under a claim of gc's own, so no stage writes into
 * it meanwhile (a stage for the same task waits for the claim, then finds no
 * manifest and runs). Undefined, and nothing deleted, when a task holds the
 * claim or something was written since the scan.
 */
async function sweepFolder(
  store: ObjectStore,
  f: Folder,
  now: Date,
): Promise<{ objects: number; bytes: number } | undefined> {
  const claim = `${f.dir}/claim.json`;
  const body = JSON.stringify({
    owner: 'gc',
    expires_at: new Date(now.getTime() + CLAIM_TTL_MS).toISOString(),
  });
  if (!(await takeClaim(store, claim, body, now))) return undefined;
  try {
    const objects = (await listed(store, `${f.dir}/`)).filter((o) => o.key !== claim);
    // Written since the scan: a stage is making this task's results again.
    if (objects.some((o) => o.lastModified.getTime() > f.newest)) return undefined;
    await Promise.all(objects.map((o) => store.delete(o.key)));
    return { objects: objects.length, bytes: sum(objects, (o) => o.size) };
  } finally {
    await store.delete(claim);
  }
}

/** When a claim (stage-claim.ts) expires; NaN when it cannot be told (then it counts as live). */
function claimExpiry(claim: unknown): number {
  const at = (claim as { expires_at?: unknown } | null)?.expires_at;
  return typeof at === 'string' ? Date.parse(at) : Number.NaN;
}

/** Takes the folder's claim: a new one, or one whose owner died (expired), as stage-claim.ts does. */
async function takeClaim(store: ObjectStore, key: string, body: string, now: Date): Promise<boolean> {
  const json = { contentType: 'application/json' };
  try {
    await store.putIfAbsent(key, body, json);
    return true;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
  let current: { value: unknown; etag: string };
  try {
    current = await store.getJson(key);
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof CorruptDataError) return false; // released, or unknown
    throw err;
  }
  if (!(claimExpiry(current.value) <= now.getTime())) return false; // a task holds it
  try {
    await store.putIfMatch(key, body, current.etag, json);
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
}

/** Every result folder under `prefix`: its objects, bytes, newest write and whether it has a claim. */
async function scan(store: ObjectStore, prefix: string): Promise<Folder[]> {
  const folders = new Map<string, Folder>();
  for await (const o of store.listAll(prefix)) {
    const dir = resultDirOf(o.key);
    if (!dir) continue; // not a task's folder: not ours to judge
    let f = folders.get(dir);
    if (!f) {
      f = { dir, objects: 0, bytes: 0, newest: 0, claimed: false };
      folders.set(dir, f);
    }
    f.objects++;
    f.bytes += o.size;
    f.newest = Math.max(f.newest, o.lastModified.getTime());
    if (o.key === `${dir}/claim.json`) f.claimed = true;
  }
  return [...folders.values()].sort((a, b) => a.dir.localeCompare(b.dir));
}

/** A claim not yet expired: a task runs in this folder now. One that cannot be read counts as live. */
async function claimLive(store: ObjectStore, dir: string, now: Date): Promise<boolean> {
  try {
    const { value } = await store.getJson(`${dir}/claim.json`);
    return !(claimExpiry(value) <= now.getTime());
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    if (err instanceof CorruptDataError) return true;
    throw err;
  }
}

/** What a finished request left in its input/ (a copy whose delete failed), old enough. */
async function leftoverInputs(store: ObjectStore, marks: Marks, cutoff: number): Promise<ObjectInfo[]> {
  const found: ObjectInfo[] = [];
  for await (const o of store.listAll(REQUESTS_ROOT)) {
    const named = requestKeyOf(o.key);
    if (named?.kind === 'input' && marks.finished.has(named.id) && o.lastModified.getTime() < cutoff)
      found.push(o);
  }
  return found;
}

/** Deletes the folder's manifest (so no task adopts the folder from now on) and returns its bytes. */
async function hideManifest(store: ObjectStore, dir: string): Promise<Buffer | undefined> {
  const key = `${dir}/manifest.json`;
  let bytes: Buffer;
  try {
    bytes = await store.getBytes(key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  await store.delete(key);
  return bytes;
}

async function restoreManifest(store: ObjectStore, dir: string, bytes: Buffer): Promise<void> {
  try {
    await store.putIfAbsent(`${dir}/manifest.json`, bytes, { contentType: 'application/json' });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err; // a stage wrote it again meanwhile: that one stands
  }
}

async function listed(store: ObjectStore, prefix: string): Promise<ObjectInfo[]> {
  const objects: ObjectInfo[] = [];
  for await (const o of store.listAll(prefix)) objects.push(o);
  return objects;
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((n, item) => n + of(item), 0);
}

function counts(d: GcReport['deleted']) {
  return { objects: d.objects, bytes: d.bytes };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
