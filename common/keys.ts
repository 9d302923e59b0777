import type { StageName } from './contracts/stages.js';

/** Clip indexes appear in keys zero-padded so listings sort in clip order. */
export function clipId(index: number): string {
  return String(index).padStart(4, '0');
}

/**
 * The bucket layout, in one place:
 *   results/<ns>/copy-source/<sha256>/source.<ext>   the video, named by its content
 *   results/<ns>/<stage>/<digest>/…           a task's outputs, manifest.json (last), claim.json
 *   requests/{id}/input/…                     the request's copy of its source, while it is fetched
 *   requests/{id}/copy-source/manifest.json   the request's own record of the copy (sha256, name)
 *   requests/{id}/metadata/{state,final,callback}.json
 *   index/videos/<ns>/<sha256>/<analysis>.json   (videoIndexKeys)
 * A task's outputs are named by its digest (manifests.ts taskDigest), not by
 * the request: every request whose task has the same digest reuses them.
 */
export const requestKeys = (requestId: string) => {
  const root = `requests/${requestId}`;
  return {
    root,
    prefix: `${root}/`,
    input: (fileName: string) => `${root}/input/${fileName}`,
    /** The manifest of a task the orchestrator runs itself (copy-source): the request's own record. */
    localManifest: (stage: StageName) => `${root}/${stage}/manifest.json`,
    state: `${root}/metadata/state.json`,
    final: `${root}/metadata/final.json`,
    /** The callback's delivery record (callback-outbox.ts). */
    callback: `${root}/metadata/callback.json`,
  };
};

export type RequestKeys = ReturnType<typeof requestKeys>;

/**
 * The prefixes the pipeline keeps for itself. A request's source may not name
 * an object under them: results are shared within a namespace only, and
 * another request's state or input is not a video to hand back to its caller.
 */
export const PIPELINE_PREFIXES = ['results/', 'requests/', 'index/'] as const;

export const isPipelineKey = (key: string) => PIPELINE_PREFIXES.some((prefix) => key.startsWith(prefix));

/** One task's directory of results: what its stage wrote, its manifest, its claim while it runs. */
export const resultKeys = (namespace: string, stage: StageName, digest: string) => {
  const dir = `${resultsPrefix(namespace)}${stage}/${digest}`;
  return {
    dir,
    prefix: `${dir}/`,
    file: (fileName: string) => `${dir}/${fileName}`,
    manifest: `${dir}/manifest.json`,
    claim: `${dir}/claim.json`,
  };
};

export type ResultKeys = ReturnType<typeof resultKeys>;

/** Every result of one namespace. */
export const resultsPrefix = (namespace: string) => `results/${namespace}/`;

/**
 * Small marker objects so listing requests never walks every stage output:
 * index/requests/{id}.json for every request (clipseek ls), index/active/{id}
 * while it is not finished (the sweeper), index/callbacks/{id} while its
 * callback is not delivered or given up, index/quarantine/{id}.json once the
 * sweeper found its state.json corrupt (it is then left alone).
 */
export const indexKeys = {
  requestsPrefix: 'index/requests/',
  request: (requestId: string) => `index/requests/${requestId}.json`,
  activePrefix: 'index/active/',
  active: (requestId: string) => `index/active/${requestId}`,
  callbacksPrefix: 'index/callbacks/',
  callback: (requestId: string) => `index/callbacks/${requestId}`,
  quarantinePrefix: 'index/quarantine/',
  quarantine: (requestId: string) => `index/quarantine/${requestId}.json`,
  idFromKey: (key: string) => key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, ''),
};

/**
 * One compact document per analysed video and analysis (common/contracts/video-index.ts):
 * index/videos/<namespace>/<sha256 of the source>/<analysis>.json. Search lists and reads
 * only these, never the stage manifests.
 */
export const videoIndexKeys = (namespace: string) => {
  const prefix = `index/videos/${namespace}/`;
  return {
    prefix,
    video: (sha256: string) => `${prefix}${sha256}/`,
    document: (sha256: string, analysis: string) => `${prefix}${sha256}/${analysis}.json`,
    /** The video and analysis a listed key names; undefined for a key of another shape. */
    parse(key: string): { sha256: string; analysis: string } | undefined {
      const m = /^([0-9a-f]{64})\/([0-9a-f]{64})\.json$/.exec(
        key.startsWith(prefix) ? key.slice(prefix.length) : '',
      );
      return m ? { sha256: m[1]!, analysis: m[2]! } : undefined;
    },
  };
};
