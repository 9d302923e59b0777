import type { StageInput, StageOutput } from '../../common/contracts/stages.js';
import { requestKeys, resultKeys } from '../../common/keys.js';
import type { ObjectStore } from '../../common/storage/types.js';
import type { OrchestratorConfig } from './config.js';
import { copySource, inputFileName, parseSource, sourceName } from './source.js';

export interface CopySourceDeps {
  store: ObjectStore;
  config: Pick<OrchestratorConfig, 'sourcePolicy' | 'maxSourceBytes' | 'sourceTimeoutMs'>;
  /** The bucket an s3:// source may name. */
  storeBucket: string | undefined;
}

/**
 * The copy-source task's effect (a task the orchestrator runs itself, see
 * pipeline.ts): the request's video, copied into its input/ and hashed on the
 * way, then moved to where its content names it,
 * results/<ns>/copy-source/<sha256>/source.<ext> — unless the same bytes are
 * there already — so every later task's digest covers the bytes and a video
 * is analysed once, whichever request or URI brought it. Attempts, retries,
 * the lease and the manifest are the driver's, as for any task; `signal`
 * aborts the copy when the lease is lost or the process stops.
 */
export function copySourceTask(deps: CopySourceDeps) {
  return async (
    input: StageInput<'copy-source'>,
    signal: AbortSignal,
  ): Promise<StageOutput<'copy-source'>> => {
    const { store, config } = deps;
    const source = await parseSource(input.video_uri, deps.storeBucket, config.sourcePolicy);
    const fileName = inputFileName(source);
    const staged = requestKeys(input.request_id).input(fileName);
    const copied = await copySource(store, source, staged, {
      policy: config.sourcePolicy,
      maxBytes: config.maxSourceBytes,
      timeoutMs: config.sourceTimeoutMs,
      signal,
    });
    const source_key = resultKeys(input.namespace, 'copy-source', copied.sha256).file(fileName);
    try {
      // The same bytes under the same name are the same object: a second copy would change nothing.
      if (!(await store.head(source_key))) await store.copy(staged, source_key);
    } finally {
      // The staged copy is the request's only while it is fetched (a failed delete: rm or gc takes it).
      await store.delete(staged).catch(() => undefined);
    }
    return { source_key, ...copied, name: sourceName(source) };
  };
}
