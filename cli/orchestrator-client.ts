import { got, RequestError } from 'got';
import { ErrorBody } from '../common/contracts/common.js';
import { FinalResult } from '../common/contracts/final.js';
import { type StatusResponse, StatusResponse as StatusResponseSchema } from '../common/contracts/request.js';
import { RetryableError } from '../common/errors.js';
import { CallError, GatewayUnreachableError } from './errors.js';

/** What the orchestrator answered: the final result, a status, or an error body. */
export type Answer =
  | { kind: 'final'; httpStatus: number; result: FinalResult }
  | { kind: 'status'; httpStatus: number; status: StatusResponse }
  | { kind: 'error'; httpStatus: number; error: CallError };

/** Connection codes that mean nothing listens there (as opposed to a call cut short). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The orchestrator function through the gateway: submit (sync or async) and
 * the control calls. Sync calls have no client timeout: a run takes as long as
 * the video needs, and the gateway's own timeouts bound it.
 */
export class OrchestratorClient {
  constructor(
    readonly gatewayUrl: string,
    private readonly authorization?: string,
  ) {}

  /** POST /function/orchestrator: blocks until the request finishes or is handed over (202). */
  call(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return this.post('/function/orchestrator', body, headers).then(({ statusCode, text }) =>
      classify(statusCode, text),
    );
  }

  /** POST /async-function/orchestrator: queued by the gateway; answers 202 at once. Returns the call id. */
  async callAsync(body: unknown, callbackUrl?: string): Promise<string> {
    const headers: Record<string, string> = callbackUrl ? { 'X-Callback-Url': callbackUrl } : {};
    const { statusCode, text, callId } = await this.post('/async-function/orchestrator', body, headers);
    if (statusCode !== 202) {
      const answer = classify(statusCode, text);
      throw answer.kind === 'error'
        ? answer.error
        : new CallError('UNEXPECTED_ANSWER', `async call answered ${statusCode}`, statusCode, {});
    }
    return callId ?? '';
  }

  private async post(path: string, body: unknown, headers: Record<string, string>) {
    const url = `${this.gatewayUrl}${path}`;
    try {
      const response = await got.post(url, {
        json: body,
        headers: { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        throwHttpErrors: false,
        retry: { limit: 0 },
        responseType: 'text',
      });
      const callId = response.headers['x-call-id'];
      return {
        statusCode: response.statusCode,
        text: response.body,
        callId: Array.isArray(callId) ? callId[0] : callId,
      };
    } catch (err) {
      if (err instanceof RequestError && err.code && UNREACHABLE.has(err.code)) {
        throw new GatewayUnreachableError(this.gatewayUrl, err);
      }
      throw new RetryableError('GATEWAY_CONNECTION_LOST', `the call to ${url} was cut short`, { cause: err });
    }
  }
}

/** Sorts an HTTP answer of the orchestrator into final / status / error. */
export function classify(httpStatus: number, text: string): Answer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (httpStatus >= 400 || json === undefined) {
    const body = ErrorBody.safeParse(json);
    const error = body.success
      ? new CallError(body.data.error.code, body.data.error.message, httpStatus, body.data.error.details)
      : new CallError(
          httpStatus === 401 ? 'UNAUTHORIZED' : 'HTTP_ERROR',
          httpStatus === 401
            ? 'the gateway wants basic auth (set BASIC_AUTH_USER and BASIC_AUTH_PASSWORD)'
            : `the gateway answered ${httpStatus}: ${text.slice(0, 200)}`,
          httpStatus,
          {},
        );
    return { kind: 'error', httpStatus, error };
  }
  const final = FinalResult.safeParse(json);
  if (final.success) return { kind: 'final', httpStatus, result: final.data };
  const status = StatusResponseSchema.safeParse(json);
  if (status.success) return { kind: 'status', httpStatus, status: status.data };
  return {
    kind: 'error',
    httpStatus,
    error: new CallError('UNEXPECTED_ANSWER', 'the orchestrator answered something unexpected', httpStatus, {
      body: text.slice(0, 500),
    }),
  };
}
