import type { StageName } from './contracts/stages.js';

/** Clip indexes appear in keys zero-padded so listings sort in clip order. */
export function clipId(index: number): string {
  return String(index).padStart(4, '0');
}

/**
 * The bucket layout, in one place:
 *   requests/{id}/input/…
 *   requests/{id}/<stage>/[<clip>/]…          (stage outputs + manifest.json)
 *   requests/{id}/metadata/{state,final,callback}.json
 *   index/videos/<namespace>/<sha256>/<analysis>.json   (videoIndexKeys)
 */
export const requestKeys = (requestId: string) => {
  const root = `requests/${requestId}`;
  const stageDir = (stage: StageName, clip?: number) =>
    clip === undefined ? `${root}/${stage}` : `${root}/${stage}/${clipId(clip)}`;
  return {
    root,
    prefix: `${root}/`,
    input: (fileName: string) => `${root}/input/${fileName}`,
    stageDir,
    stageFile: (stage: StageName, fileName: string, clip?: number) => `${stageDir(stage, clip)}/${fileName}`,
    manifest: (stage: StageName, clip?: number) => `${stageDir(stage, clip)}/manifest.json`,
    state: `${root}/metadata/state.json`,
    final: `${root}/metadata/final.json`,
    /** The callback's delivery record (callback-outbox.ts). */
    callback: `${root}/metadata/callback.json`,
  };
};

export type RequestKeys = ReturnType<typeof requestKeys>;

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
