/**
 * gc's mark phase: the result folders something still uses. A request's
 * state.json names its tasks' results (`manifest`, `digest`); its copy-source
 * record names the source; a video index document names the folders it was
 * built from (`results`) and its video's source. Anything that could name a
 * folder but cannot be read stops gc (GcRefusedError): it could reference
 * anything. The one exception is a quarantined request (the sweeper found its
 * state.json corrupt and set it aside): no call can drive or assemble it again,
 * so it holds nothing (README: Retention).
 */
import pLimit from 'p-limit';
import { isFunctionStage } from '../contracts/pipeline.js';
import type { StageName } from '../contracts/stages.js';
import type { RequestState } from '../contracts/state.js';
import { ClipseekError, CorruptDataError, NotFoundError, StateCorruptError } from '../errors.js';
import {
  indexKeys,
  REQUESTS_ROOT,
  requestKeyOf,
  requestKeys,
  resultDirOf,
  resultKeys,
  VIDEO_INDEX_ROOT,
  videoIndexKeyOf,
  videoIndexKeys,
} from '../keys.js';
import { loadManifest } from '../manifests.js';
import { isTerminal } from '../state/lifecycle.js';
import { readState } from '../state/state-store.js';
import type { ObjectStore } from '../storage/types.js';
import { parseTaskKey } from '../task-key.js';

/** Reads at once. */
const PARALLEL = 8;

/** Something that could reference results but cannot be read. */
export interface Unreadable {
  key: string;
  code: string;
}

/** gc deletes nothing while a reference cannot be read. 409: an operator must repair, quarantine or rm it. */
export class GcRefusedError extends ClipseekError {
  constructor(unreadable: Unreadable[]) {
    super(
      'GC_REFUSED',
      `gc deletes nothing while ${unreadable.length} request state(s) or index document(s) cannot be read ` +
        '(they could reference any result): repair them, or clipseek rm the requests',
      { status: 409, retryable: false, details: { unreadable: unreadable.slice(0, 100) } },
    );
  }
}

export interface Marks {
  /** Result folders (results/<ns>/<stage>/<digest>) in use. */
  dirs: Set<string>;
  requests: number;
  documents: number;
  /** Requests that have finished: their input/ leftovers are garbage. */
  finished: Set<string>;
}

/**
 * Every result folder in use, read from every request in the bucket (all
 * namespaces: a namespace's requests are told apart only by reading them) and
 * from the video index documents of `namespace` (every namespace when undefined).
 */
export async function markReferenced(store: ObjectStore, namespace: string | undefined): Promise<Marks> {
  const marks: Marks = { dirs: new Set(), requests: 0, documents: 0, finished: new Set() };
  const unreadable: Unreadable[] = [];
  const limit = pLimit(PARALLEL);

  const quarantined = new Set<string>();
  for await (const o of store.listAll(indexKeys.quarantinePrefix))
    quarantined.add(indexKeys.idFromKey(o.key));
  // requests/ holds a few small objects per request (results live elsewhere), so listing it finds
  // every state.json, also one whose index markers were never written.
  const ids: string[] = [];
  for await (const o of store.listAll(REQUESTS_ROOT)) {
    const named = requestKeyOf(o.key);
    if (named?.kind === 'state') ids.push(named.id);
  }
  await Promise.all(
    ids.map((id) =>
      limit(async () => {
        let state: RequestState;
        try {
          state = (await readState(store, id)).state;
        } catch (err) {
          if (err instanceof NotFoundError) return; // deleted since the listing
          if (err instanceof StateCorruptError) {
            if (!quarantined.has(id)) unreadable.push({ key: requestKeys(id).state, code: err.code });
            return;
          }
          throw err;
        }
        marks.requests++;
        if (isTerminal(state.status)) marks.finished.add(id);
        await markRequest(store, state, marks.dirs, unreadable);
      }),
    ),
  );

  const docs: string[] = [];
  for await (const o of store.listAll(
    namespace === undefined ? VIDEO_INDEX_ROOT : videoIndexKeys(namespace).prefix,
  ))
    docs.push(o.key);
  await Promise.all(docs.map((key) => limit(() => markDocument(store, key, marks, unreadable))));

  if (unreadable.length) throw new GcRefusedError(unreadable.sort((a, b) => a.key.localeCompare(b.key)));
  return marks;
}

/** The folders of every task of the request, whatever its status: a running one may need them yet. */
async function markRequest(
  store: ObjectStore,
  state: RequestState,
  dirs: Set<string>,
  unreadable: Unreadable[],
): Promise<void> {
  for (const [key, task] of Object.entries(state.tasks)) {
    const { stage } = parseTaskKey(key);
    if (task.digest && isFunctionStage(stage)) dirs.add(resultKeys(state.namespace, stage, task.digest).dir);
    if (!task.manifest) continue;
    const dir = resultDirOf(task.manifest);
    if (dir) dirs.add(dir);
    // A task the orchestrator runs itself keeps its record in the request; that record names the shared output.
    else await markLocalManifest(store, stage, task.manifest, dirs, unreadable);
  }
}

async function markLocalManifest(
  store: ObjectStore,
  stage: StageName,
  key: string,
  dirs: Set<string>,
  unreadable: Unreadable[],
): Promise<void> {
  try {
    const manifest = await loadManifest(store, stage, key);
    for (const value of Object.values(manifest.output as Record<string, unknown>)) {
      const dir = typeof value === 'string' ? resultDirOf(value) : undefined;
      if (dir) dirs.add(dir);
    }
  } catch (err) {
    if (err instanceof NotFoundError) return; // not written yet: what it will name is new, so young
    if (err instanceof CorruptDataError) unreadable.push({ key, code: err.code });
    else throw err;
  }
}

/**
 * A video index document's folders. Only `results` is read (not the whole
 * schema), so a document search would skip for another reason still protects
 * what it names; the video's source (results/<ns>/copy-source/<sha256>/) is
 * kept with it.
 */
async function markDocument(
  store: ObjectStore,
  key: string,
  marks: Marks,
  unreadable: Unreadable[],
): Promise<void> {
  const named = videoIndexKeyOf(key);
  let value: unknown;
  try {
    value = (await store.getJson(key)).value;
  } catch (err) {
    if (err instanceof NotFoundError) return;
    if (err instanceof CorruptDataError) {
      unreadable.push({ key, code: 'INDEX_DOCUMENT_CORRUPT' });
      return;
    }
    throw err;
  }
  const results = (value as { results?: unknown } | null)?.results;
  if (!named || !Array.isArray(results) || !results.every((r) => typeof r === 'string')) {
    unreadable.push({ key, code: 'INDEX_DOCUMENT_INVALID' });
    return;
  }
  marks.documents++;
  for (const folder of results) {
    const dir = resultDirOf(`${folder}/`);
    if (dir) marks.dirs.add(dir);
  }
  marks.dirs.add(resultKeys(named.namespace, 'copy-source', named.sha256).dir);
}
