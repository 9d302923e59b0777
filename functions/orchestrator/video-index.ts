import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import pLimit from 'p-limit';
import type { RequestState } from '../../common/contracts/state.js';
import type { VideoFacts, VideoIndexDocument } from '../../common/contracts/video-index.js';
import { resultsPrefix, videoIndexKeys } from '../../common/keys.js';
import { indexedClip } from '../../common/search/clips.js';
import type { ObjectStore } from '../../common/storage/types.js';
import type { Evidence } from './assemble.js';

const JSON_TYPE = { contentType: 'application/json' };
/** Result folders listed at once when the index document counts their bytes. */
const LISTINGS_AT_ONCE = 8;

/**
 * Writes the video index document of a request that succeeded with analysed
 * clips (search reads these, never the manifests) and returns its key;
 * undefined when there is nothing to index. The same analysis always lands
 * on the same key, so writing it again only refreshes it.
 */
export async function writeVideoIndex(
  store: ObjectStore,
  state: RequestState,
  evidence: Evidence,
  at: Date,
): Promise<string | undefined> {
  const { source, analysed, coverage, durationS } = evidence;
  // The namespace the request started in (state.json), the one its results were shared in.
  const { namespace } = state;
  if (state.status !== 'SUCCEEDED' || analysed.length === 0 || !coverage || durationS === undefined)
    return undefined;
  if (!source) return undefined;
  const results = resultDirs(state, source.source_key);
  const video: VideoFacts = {
    name: source.name,
    uri: state.request.video_uri,
    sha256: source.sha256,
    duration_s: durationS,
    size_bytes: source.size_bytes,
  };
  const doc: VideoIndexDocument = {
    schema_version: 1,
    namespace,
    analysis: analysisId(results),
    video,
    profile: state.profile,
    frame_interval_s: evidence.frameIntervalS,
    created_at: at.toISOString(),
    request_id: state.request_id,
    coverage,
    stored_bytes: await storedBytes(store, results),
    results,
    clips: analysed.map(indexedClip),
  };
  const key = videoIndexKeys(namespace).document(video.sha256, doc.analysis);
  await store.put(key, JSON.stringify(doc), JSON_TYPE);
  return key;
}

/**
 * The folders of the shared results the analysis is made of, sorted: every
 * succeeded task's, and the source's (results/<ns>/copy-source/<sha256>/).
 * copy-source's own record is the request's (a URI is fetched by every
 * request), so it is not one of them: the same video with the same settings
 * is the same analysis, whichever request made it.
 */
function resultDirs(state: RequestState, sourceKey: string): string[] {
  const dirs = new Set<string>([posix.dirname(sourceKey)]);
  for (const task of Object.values(state.tasks)) {
    if (task.status === 'SUCCEEDED' && task.manifest?.startsWith(resultsPrefix(state.namespace)))
      dirs.add(posix.dirname(task.manifest));
  }
  return [...dirs].sort();
}

/** Same results, same analysis: a digest of the folders they live in (which name their task digests). */
function analysisId(results: readonly string[]): string {
  return createHash('sha256').update(results.join('\n')).digest('hex');
}

/** Bytes of the objects under the result folders (the source among them): one listing per folder. */
async function storedBytes(store: ObjectStore, results: readonly string[]): Promise<number> {
  const limit = pLimit(LISTINGS_AT_ONCE);
  const sizes = await Promise.all(
    results.map((dir) =>
      limit(async () => {
        let bytes = 0;
        for await (const o of store.listAll(`${dir}/`)) bytes += o.size;
        return bytes;
      }),
    ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
