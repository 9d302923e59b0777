import type { FinalResult } from '../../common/contracts/final.js';
import type { StatusResponse } from '../../common/contracts/request.js';
import type { SearchResult } from '../../common/contracts/video-index.js';
import { requestKeys } from '../../common/keys.js';
import type { FunctionResponse } from '../../common/openfaas/serve.js';
import type { Outcome } from './service.js';

/**
 * How an outcome is answered over HTTP. A finished request answers with
 * final.json when it SUCCEEDED; a FAILED one answers with the error body of
 * its cause — a 4xx when the input was at fault (bad media, refused source),
 * 502 otherwise — so a failure never looks like a 200. Unfinished: 202 + status.
 */
export function toHttp(outcome: Outcome): FunctionResponse {
  if (outcome.kind === 'final') return finalToHttp(outcome.result);
  const { state } = outcome;
  const body: StatusResponse & { note?: string } = {
    request_id: state.request_id,
    status: state.status,
    state_key: requestKeys(state.request_id).state,
    ...(state.status === 'SUCCEEDED' || state.status === 'FAILED'
      ? { final_key: requestKeys(state.request_id).final }
      : {}),
    error: state.error,
    updated_at: state.updated_at,
    ...(outcome.note ? { note: outcome.note } : {}),
  };
  return { status: outcome.httpStatus, headers: { 'x-request-id': state.request_id }, body };
}

/** A search answers 200 with its ranked matches, also when there are none. */
export function searchToHttp(result: SearchResult): FunctionResponse {
  return { status: 200, headers: {}, body: result };
}

function finalToHttp(result: FinalResult): FunctionResponse {
  const headers = { 'x-request-id': result.request_id };
  if (result.status === 'SUCCEEDED') return { status: 200, headers, body: result };
  const details = {
    request_id: result.request_id,
    status: result.status,
    final_key: requestKeys(result.request_id).final,
  };
  if (result.status === 'CANCELLED') {
    return {
      status: 409,
      headers,
      body: { error: { code: 'REQUEST_CANCELLED', message: 'the request was cancelled', details } },
    };
  }
  if (result.status === 'EXPIRED') {
    return {
      status: 410,
      headers,
      body: { error: { code: 'REQUEST_EXPIRED', message: 'the request expired', details } },
    };
  }
  const cause = result.error ?? { code: 'REQUEST_FAILED', message: 'the request failed' };
  const status = cause.status && cause.status >= 400 && cause.status < 500 ? cause.status : 502;
  return {
    status,
    headers,
    body: { error: { code: cause.code, message: cause.message, details: { ...cause.details, ...details } } },
  };
}
