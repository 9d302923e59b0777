import { z } from 'zod';
import {
  Coverage,
  DEFAULT_NAMESPACE,
  ErrorInfo,
  IsoTime,
  Namespace,
  ObjectKey,
  RequestId,
} from './common.js';
import { Profile } from './profile.js';
import { RequestStatus } from './request.js';
import { StageName } from './stages.js';

export const TaskStatus = z.enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED']);
export type TaskStatus = z.infer<typeof TaskStatus>;

/**
 * One unit of work: a request-level stage ("copy-source", "extract-audio"), or
 * a per-clip stage for one clip ("transcode-clip/0003").
 */
export const TaskState = z.object({
  status: TaskStatus,
  attempts: z.number().int().nonnegative(),
  started_at: IsoTime.optional(),
  finished_at: IsoTime.optional(),
  duration_ms: z.number().nonnegative().optional(),
  /** Not before this time may the next attempt start (backoff). */
  retry_at: IsoTime.optional(),
  /** The task's manifest: in the shared results (results/<ns>/<stage>/<digest>/), copy-source's in the request. */
  manifest: ObjectKey.optional(),
  /** The task digest its results are named by (manifests.ts taskDigest). */
  digest: z.string().optional(),
  /**
   * True when the manifest at the digest already existed and nothing was
   * invoked: made by another request, or by this one before a resume.
   */
  reused: z.boolean().optional(),
  error: ErrorInfo.optional(),
});
export type TaskState = z.infer<typeof TaskState>;

export const StageSummary = z.object({
  status: TaskStatus,
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
export type StageSummary = z.infer<typeof StageSummary>;

export const Lease = z.object({ owner: z.string().min(1), expires_at: IsoTime });
export type Lease = z.infer<typeof Lease>;

export const CallbackAttempt = z.object({
  delivery_id: z.string(),
  url: z.string(),
  attempt: z.number().int().positive(),
  at: IsoTime,
  status_code: z.number().int().optional(),
  error: z.string().optional(),
  delivered: z.boolean(),
});

export const RequestState = z.object({
  schema_version: z.literal(1),
  request_id: RequestId,
  status: RequestStatus,
  created_at: IsoTime,
  updated_at: IsoTime,
  /** Past this time a request that has not finished is marked EXPIRED by the sweeper. */
  expires_at: IsoTime,
  /**
   * Whose results it shares (CLIPSEEK_NAMESPACE when it was accepted): resume
   * and assembly use this one. A state.json from before namespaces is in the default.
   */
  namespace: Namespace.default(DEFAULT_NAMESPACE),
  profile: z.string(),
  params: Profile,
  request: z.object({
    video_uri: z.string(),
    query: z.string(),
    callback_url: z.string().optional(),
    idempotency_key: z.string().optional(),
    /**
     * requestDigest of the submission (common/request-digest.ts): a repeat under the
     * same id with another digest is refused (IDEMPOTENCY_KEY_MISMATCH). Absent in
     * states written before it was recorded; those are not compared.
     */
    digest: z.string().optional(),
  }),
  lease: Lease.nullable(),
  /** How many times a driver has taken this request (first run, resumes, continuations). */
  runs: z.number().int().nonnegative(),
  clips: z.number().int().nonnegative().nullable(),
  /** Clips with a task that failed for good (their later tasks are FAILED with UPSTREAM_FAILED). */
  failed_clips: z.array(z.number().int().nonnegative()),
  /** How much of the source was analysed: written when the request finishes. */
  coverage: Coverage.optional(),
  stages: z.partialRecord(StageName, StageSummary),
  tasks: z.record(z.string(), TaskState),
  callbacks: z.array(CallbackAttempt),
  cancel_requested: z.boolean(),
  error: ErrorInfo.nullable(),
});
export type RequestState = z.infer<typeof RequestState>;
