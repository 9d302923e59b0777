import { z } from 'zod';
import { ErrorInfo, IsoTime, RequestId } from './common.js';
import { FinalResult } from './final.js';
import { RequestStatus } from './request.js';

/**
 * The body POSTed to a request's callback_url. Signed with
 * `X-Clipseek-Signature: sha256=<hex HMAC-SHA256 of the raw body>`; the same
 * `delivery_id` (also `X-Clipseek-Delivery`) on every retry, so receivers can dedupe.
 */
export const CallbackBody = z.object({
  delivery_id: z.string().min(1),
  request_id: RequestId,
  status: RequestStatus,
  sent_at: IsoTime,
  result: FinalResult.nullable(),
  error: ErrorInfo.nullable(),
});
export type CallbackBody = z.infer<typeof CallbackBody>;
