import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { RequestState } from '../../common/contracts/state.js';
import type { VideoFacts, VideoIndexDocument } from '../../common/contracts/video-index.js';
import { requestKeys, videoIndexKeys } from '../../common/keys.js';
import { manifestKey } from '../../common/manifests.js';
import { indexedClip } from '../../common/search/clips.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { parseTaskKey } from '../../common/task-key.js';
import type { Evidence } from './assemble.js';

const JSON_TYPE = { contentType: 'application/json' };

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
  namespace: string,
  at: Date,
): Promise<string | undefined> {
  const { source, analysed, coverage, durationS } = evidence;
  if (state.status !== 'SUCCEEDED' || analysed.length === 0 || !coverage || durationS === undefined)
    return undefined;
  if (!source) return undefined;
  const results = resultDirs(state);
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
    stored_bytes: await storedBytes(store, state, source.source_key, results),
    results,
    clips: analysed.map(indexedClip),
  };
  const key = videoIndexKeys(namespace).document(video.sha256, doc.analysis);
  await store.put(key, JSON.stringify(doc), JSON_TYPE);
  return key;
}

/** The folders of the succeeded tasks' results, sorted. */
function resultDirs(state: RequestState): string[] {
  const dirs = new Set<string>();
  for (const [key, task] of Object.entries(state.tasks)) {
    if (task.status !== 'SUCCEEDED') continue;
    const { stage, clip } = parseTaskKey(key);
    dirs.add(posix.dirname(task.manifest ?? manifestKey(stage, state.request_id, clip)));
  }
  return [...dirs].sort();
}

/** Same results, same analysis: a digest of the folders they live in (which name their task digests). */
function analysisId(results: readonly string[]): string {
  return createHash('sha256').update(results.join('\n')).digest('hex');
}

/**
 * Bytes of the source and of the objects under the result folders. They all
 * live under the request's own prefix, so one listing of it finds them.
 */
async function storedBytes(
  store: ObjectStore,
  state: RequestState,
  sourceKey: string,
  results: readonly string[],
): Promise<number> {
  const dirs = new Set(results);
  let bytes = 0;
  for await (const o of store.listAll(requestKeys(state.request_id).prefix)) {
    let dir = posix.dirname(o.key);
    while (dir !== '.' && !dirs.has(dir)) dir = posix.dirname(dir);
    if (o.key === sourceKey || dir !== '.') bytes += o.size;
  }
  return bytes;
}
