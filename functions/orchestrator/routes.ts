/**
 * How a call to the orchestrator is read: a POST body asks to resume, cancel,
 * or report a request, or to list them or search the analysed videos, or else
 * submits a request (respond.ts is the way back).
 */
import type { z } from 'zod';
import {
  CancelRequest,
  ListRequest,
  ResumeRequest,
  SearchRequest,
  StatusRequest,
  SubmitRequest,
} from '../../common/contracts/request.js';
import { InputError } from '../../common/errors.js';
import { firstHeader } from '../../common/openfaas/http.js';
import { MethodNotAllowedError } from '../../common/openfaas/method-error.js';
import type { FunctionHandler } from '../../common/openfaas/types.js';
import { invalidOverrides, unknownProfile } from '../../common/profiles.js';
import { checkListQuery } from '../../common/state/request-list.js';
import { parseIdempotencyKey } from './request-identity.js';
import { searchToHttp, toHttp } from './respond.js';
import type { OrchestratorService } from './service.js';

export function orchestratorHandler(service: OrchestratorService): FunctionHandler {
  return async (req) => {
    const body = req.body;
    if (req.method !== 'POST') throw new MethodNotAllowedError(req.method, ['POST']);
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      if ('resume' in body) return toHttp(await service.resume(parse(ResumeRequest, body).resume));
      if ('cancel' in body) return toHttp(await service.cancel(parse(CancelRequest, body).cancel));
      if ('status' in body) return toHttp(await service.status(parse(StatusRequest, body).status));
      if ('list' in body) {
        if (Object.keys(body).length !== 1) parse(ListRequest, body); // refuses the extra keys
        return { status: 200, body: await service.list(checkListQuery((body as { list: unknown }).list)) };
      }
      if ('search' in body) return searchToHttp(await service.search(parse(SearchRequest, body)));
    }
    // As sent: an empty key is refused, not taken for no key.
    const keyHeader = req.headers['idempotency-key'];
    const sentKey = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
    const idempotencyKey = sentKey === undefined ? undefined : parseIdempotencyKey(sentKey);
    // Only a call id the gateway sent (not one the adapter made up) identifies a redelivery.
    const gatewayCallId = firstHeader(req.headers['x-call-id']) ? req.callId : undefined;
    return toHttp(await service.submit(parse(SubmitRequest, body), idempotencyKey, gatewayCallId));
  };
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: z.ZodError } },
  body: unknown,
): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw refusal(body, parsed.error.issues);
  return parsed.data;
}

/**
 * The error for a body the schema rejects. The README documents a code of
 * its own for a bad profile and for bad overrides: when every issue is about
 * that one field (by the issues' path and kind), that code; else the general one.
 */
function refusal(body: unknown, issues: readonly z.core.$ZodIssue[]): InputError {
  const fields = new Set(issues.map((issue) => issue.path[0]));
  if (fields.size === 1 && fields.has('profile') && issues.every((i) => i.code === 'invalid_value')) {
    return unknownProfile((body as { profile?: unknown }).profile, issues);
  }
  if (fields.size === 1 && fields.has('overrides')) return invalidOverrides(issues);
  return new InputError('INVALID_REQUEST', 'the request body is not valid', { details: { issues } });
}
