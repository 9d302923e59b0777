/**
 * How a call to the orchestrator is read: a POST body asks to resume, cancel,
 * or report a request, or to search the analysed videos, or else submits a
 * request (respond.ts is the way back).
 */
import {
  CancelRequest,
  ResumeRequest,
  SearchRequest,
  StatusRequest,
  SubmitRequest,
} from '../../common/contracts/request.js';
import { InputError } from '../../common/errors.js';
import { firstHeader } from '../../common/openfaas/http.js';
import { MethodNotAllowedError } from '../../common/openfaas/method-error.js';
import type { FunctionHandler } from '../../common/openfaas/types.js';
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
      if ('search' in body) return searchToHttp(await service.search(parse(SearchRequest, body)));
    }
    // As sent: an empty key is refused, not taken for no key.
    const keyHeader = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
      throw new InputError('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key: 1-200 printable ASCII characters');
    }
    // Only a call id the gateway sent (not one the adapter made up) identifies a redelivery.
    const gatewayCallId = firstHeader(req.headers['x-call-id']) ? req.callId : undefined;
    return toHttp(await service.submit(parse(SubmitRequest, body), idempotencyKey, gatewayCallId));
  };
}

function parse<T>(
  schema: {
    safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: unknown[] } };
  },
  body: unknown,
): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new InputError('INVALID_REQUEST', 'the request body is not valid', {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}
