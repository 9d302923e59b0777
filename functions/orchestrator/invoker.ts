import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { type Got, got, RequestError, type Response } from 'got';
import type { ErrorInfo } from '../../common/contracts/common.js';
import { AnyManifest, type StageName } from '../../common/contracts/stages.js';
import { CancelledError, ClipseekError, RetryableError, TimeoutError } from '../../common/errors.js';

export type StageManifest = ReturnType<typeof AnyManifest.parse>;

export interface InvokeOptions {
  timeoutMs: number;
  callId: string;
  signal?: AbortSignal;
}

/** Calls a stage function and returns its manifest, or throws a classified ClipseekError. */
export type StageInvoker = (
  stage: StageName,
  input: unknown,
  options: InvokeOptions,
) => Promise<StageManifest>;

/**
 * Invokes stages synchronously through the OpenFaaS gateway
 * (`POST {gateway}/function/<stage>`). Status mapping: 2xx → manifest;
 * 429 and 5xx → retryable (Retry-After honoured); other 4xx → not retryable,
 * keeping the stage's own error code; timeouts and connection resets → retryable.
 */
export function createGatewayInvoker(
  gatewayUrl: string,
  options: { client?: Got; auth?: string } = {},
): StageInvoker {
  // One client with keep-alive agents for every call: a request with thousands
  // of tasks must not open a connection per call.
  const client = (options.client ?? got).extend({
    agent: { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) },
  });
  const base = gatewayUrl.replace(/\/+$/, '');
  return async (stage, input, { timeoutMs, callId, signal }) => {
    let response: Response<string>;
    try {
      response = await client.post(`${base}/function/${stage}`, {
        json: input,
        headers: { 'x-call-id': callId, ...(options.auth ? { authorization: options.auth } : {}) },
        timeout: { request: timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        signal,
      });
    } catch (err) {
      throw classifyTransportError(stage, err, timeoutMs);
    }
    const body = parseJson(response.body);
    if (response.statusCode >= 200 && response.statusCode < 300) {
      const manifest = AnyManifest.safeParse(body);
      if (!manifest.success || manifest.data.stage !== stage) {
        throw new RetryableError('STAGE_BAD_RESPONSE', `${stage} answered 200 without a valid manifest`, {
          details: { status: response.statusCode },
        });
      }
      return manifest.data;
    }
    throw classifyHttpError(
      stage,
      response.statusCode,
      body,
      response.headers['retry-after'],
      response.headers['x-clipseek-retryable'],
    );
  };
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorFromBody(body: unknown): Partial<ErrorInfo> {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object') return e as Partial<ErrorInfo>;
  }
  return {};
}

export function classifyHttpError(
  stage: StageName,
  status: number,
  body: unknown,
  retryAfter: string | string[] | undefined,
  /** Our adapter says whether a retry can help (a 500 from a contract breach cannot). */
  retryableHeader?: string | string[] | undefined,
): ClipseekError {
  const fromStage = errorFromBody(body);
  const message = fromStage.message ?? (typeof body === 'string' ? body.slice(0, 300) : `HTTP ${status}`);
  const details = { stage, status, ...(fromStage.details ?? {}) };
  const declared = Array.isArray(retryableHeader) ? retryableHeader[0] : retryableHeader;
  const retryable =
    declared === undefined ? status === 429 || status >= 500 || status === 408 : declared === 'true';
  if (!retryable) {
    return new ClipseekError(fromStage.code ?? 'STAGE_REJECTED', `${stage}: ${message}`, { status, details });
  }
  if (status === 504) return new TimeoutError('STAGE_TIMEOUT', `${stage}: ${message}`, { details });
  const code = fromStage.code ?? (status === 429 ? 'STAGE_BUSY' : 'STAGE_UNAVAILABLE');
  return new RetryableError(code, `${stage}: ${message}`, {
    status,
    details,
    retryAfterMs: parseRetryAfter(retryAfter),
  });
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(text);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function classifyTransportError(stage: StageName, err: unknown, timeoutMs: number): ClipseekError {
  if (err instanceof RequestError) {
    if (err.name === 'TimeoutError' || err.code === 'ETIMEDOUT') {
      return new TimeoutError('STAGE_TIMEOUT', `${stage} did not answer within ${timeoutMs} ms`, {
        cause: err,
      });
    }
    if (err.name === 'AbortError' || err.code === 'ERR_ABORTED')
      return new CancelledError(`${stage} call aborted`, { cause: err });
    return new RetryableError('GATEWAY_UNREACHABLE', `${stage}: ${err.code ?? err.message}`, { cause: err });
  }
  if (err instanceof Error && err.name === 'AbortError')
    return new CancelledError(`${stage} call aborted`, { cause: err });
  return new RetryableError('GATEWAY_UNREACHABLE', `${stage}: ${String(err)}`, { cause: err });
}
