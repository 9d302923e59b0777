/** Search across every analysed video, from the video index documents (index/videos/<namespace>/). */
export {
  DEFAULT_MAX_DOCUMENT_BYTES,
  eachVideo,
  type IndexedVideo,
  names,
  type ReadOptions,
} from './documents.js';
export { type SearchOptions, search } from './search.js';
