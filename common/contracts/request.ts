import { z } from 'zod';
import { PROFILE_NAMES } from '../profiles.js';
import { ErrorInfo, IsoTime, RequestId } from './common.js';
import { ProfileOverrides } from './profile.js';

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);

/**
 * Prefixes of the ids the orchestrator derives (from an Idempotency-Key, from
 * the gateway's X-Call-Id). A client's request_id never has them, so no
 * client can create a request under an id derived for someone else's key.
 */
export const DERIVED_ID_PREFIX = { idempotencyKey: 'k_', callId: 'c_' } as const;

/**
 * A request_id the client chooses: any RequestId outside the derived
 * namespaces, in either case (a case-insensitive file system would take K_x
 * for k_x). Spelled out, not built from DERIVED_ID_PREFIX, so the published
 * JSON schema has the same pattern; a unit test keeps the two in step.
 */
const ClientRequestId = RequestId.regex(
  /^(?![kKcC]_)/,
  'request_id: k_… and c_… are reserved for ids derived from Idempotency-Key and X-Call-Id',
);

/**
 * POST /function/orchestrator — start (or, with the same request_id/Idempotency-Key
 * and the same body, look up) a request.
 */
export const SubmitRequest = z
  .object({
    /** s3://bucket/key, a key in our bucket (store://key), http(s)://…, or a local path (embedded stack only). */
    video_uri: z.string().min(1).max(2048),
    query: z.string().trim().min(1).max(500),
    profile: z.enum(PROFILE_NAMES).default('default'),
    overrides: ProfileOverrides.optional(),
    callback_url: HttpUrl.optional(),
    request_id: ClientRequestId.optional(),
  })
  .strict();
export type SubmitRequest = z.infer<typeof SubmitRequest>;

/** Control messages to the same function. */
export const ResumeRequest = z.object({ resume: RequestId }).strict();
export const CancelRequest = z.object({ cancel: RequestId }).strict();
export const StatusRequest = z.object({ status: RequestId }).strict();
/** Searches the analysed videos of the orchestrator's namespace (all of them, or those `videos` names). */
export const SearchRequest = z
  .object({
    search: z.string().trim().min(1).max(500),
    /** Videos by sha256, name or URI; absent: every analysed video. */
    videos: z.array(z.string().min(1).max(2048)).min(1).max(1000).optional(),
    limit: z.number().int().min(1).max(1000).default(20),
  })
  .strict();
export type SearchRequest = z.infer<typeof SearchRequest>;

/** The statuses a request ends in: nothing moves it out of one (common/state/lifecycle.ts). */
export const FINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export const RequestStatus = z.enum(['INIT', 'RUNNING', ...FINAL_STATUSES]);
export type RequestStatus = z.infer<typeof RequestStatus>;

export const LIST_LIMIT = { default: 20, max: 200 } as const;

/** One page of the requests, newest first (common/request-list.ts); `cursor` is a page's next_cursor. */
export const ListQuery = z
  .object({
    limit: z.number().int().min(1).max(LIST_LIMIT.max).default(LIST_LIMIT.default),
    cursor: z.string().min(1).max(512).optional(),
    status: RequestStatus.optional(),
  })
  .strict();
export type ListQuery = z.input<typeof ListQuery>;
export const ListRequest = z.object({ list: ListQuery }).strict();

export const OrchestratorCall = z.union([
  SubmitRequest,
  ResumeRequest,
  CancelRequest,
  StatusRequest,
  ListRequest,
  SearchRequest,
]);

/** The orchestrator's answer when it does not (yet) have the final result. */
export const StatusResponse = z.object({
  request_id: RequestId,
  status: RequestStatus,
  state_key: z.string(),
  final_key: z.string().optional(),
  error: ErrorInfo.nullable().optional(),
  updated_at: IsoTime.optional(),
});
export type StatusResponse = z.infer<typeof StatusResponse>;

/** A request as a listing shows it. */
export const ListedRequest = z.object({
  request_id: z.string(),
  /** A request status, or CORRUPT (its state.json cannot be read), or UNKNOWN (no state.json yet). */
  status: z.string(),
  created_at: z.string(),
  query: z.string(),
  /** The video_uri it was submitted with (null when its state cannot be read). */
  source: z.string().nullable(),
  clips: z.number().int().nullable(),
  matches: z.number().int().optional(),
  /** Why the request could not be read (status CORRUPT): its error code. */
  error: z.string().optional(),
});
export type ListedRequest = z.infer<typeof ListedRequest>;

/** The answer to `{"list": …}`. */
export const RequestPage = z.object({
  requests: z.array(ListedRequest),
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: z.string().nullable(),
  /** Requests after this page not yet looked at (before any status filter). */
  remaining: z.number().int().nonnegative(),
});
export type RequestPage = z.infer<typeof RequestPage>;
