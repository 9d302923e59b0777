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
  const { analysed, coverage, durationS } = evidence;
  if (state.status !== 'SUCCEEDED' || analysed.length === 0 || !coverage || durationS === undefined)
    return undefined;
  if (!state.input_key) return undefined;
  const results = resultDirs(state);
  const video = await sourceFacts(store, state, state.input_key, durationS);
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
    stored_bytes: await storedBytes(store, state, state.input_key, results),
    results,
    clips: analysed.map(indexedClip),
  };
  const key = videoIndexKeys(namespace).document(video.sha256, doc.analysis);
  await store.put(key, JSON.stringify(doc), JSON_TYPE);
  return key;
}

/**
 * The video a request analysed. A video is named by its source's sha256;
 * until the request records that digest of the bytes (copy-source), the
 * digest of the key its source was copied to stands in: each request then
 * indexes a video of its own.
 */
async function sourceFacts(
  store: ObjectStore,
  state: RequestState,
  sourceKey: string,
  durationS: number,
): Promise<VideoFacts> {
  const uri = state.request.video_uri;
  return {
    name: sourceName(uri),
    uri,
    sha256: createHash('sha256').update(sourceKey).digest('hex'),
    duration_s: durationS,
    size_bytes: (await store.head(sourceKey))?.size ?? 0,
  };
}

/** The last path segment of a video URI or path, without query or fragment. */
export function sourceName(uri: string): string {
  const path = uri.replace(/[?#].*$/s, '').replace(/\/+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // A malformed escape: the segment as written.
  }
  return (name || path || uri).slice(0, 1024);
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
