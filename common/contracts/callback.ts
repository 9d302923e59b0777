import { z } from 'zod';
import { ErrorInfo, IsoTime, RequestId } from './common.js';
import { FinalResult } from './final.js';
import { RequestStatus } from './request.js';

/**
 * The body POSTed to a request's callback_url, signed as Standard Webhooks
 * say (`webhook-id`, `webhook-timestamp`, `webhook-signature`:
 * functions/orchestrator/callbacks.ts). `delivery_id` is the webhook-id: the
 * same on every retry, so receivers can dedupe.
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
