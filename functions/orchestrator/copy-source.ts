import type { StageInput, StageOutput } from '../../common/contracts/stages.js';
import { requestKeys } from '../../common/keys.js';
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
 * way. Attempts, retries, the lease and the manifest are the driver's, as for
 * any task; `signal` aborts the copy when the lease is lost or the process stops.
 */
export function copySourceTask(deps: CopySourceDeps) {
  return async (
    input: StageInput<'copy-source'>,
    signal: AbortSignal,
  ): Promise<StageOutput<'copy-source'>> => {
    const { store, config } = deps;
    const source = await parseSource(input.video_uri, deps.storeBucket, config.sourcePolicy);
    const source_key = requestKeys(input.request_id).input(inputFileName(source));
    const copied = await copySource(store, source, source_key, {
      policy: config.sourcePolicy,
      maxBytes: config.maxSourceBytes,
      timeoutMs: config.sourceTimeoutMs,
      signal,
    });
    return { source_key, ...copied, name: sourceName(source) };
  };
}
