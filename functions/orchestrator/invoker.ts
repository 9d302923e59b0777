import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ErrorInfo } from '../../common/contracts/common.js';
import type { FunctionStageName } from '../../common/contracts/pipeline.js';
import { AnyManifest } from '../../common/contracts/stages.js';
import { CancelledError, ClipseekError, RetryableError, TimeoutError } from '../../common/errors.js';
import { parseRetryAfter } from '../../common/http/retry-after.js';

export type StageManifest = ReturnType<typeof AnyManifest.parse>;

export interface InvokeOptions {
  timeoutMs: number;
  callId: string;
  signal?: AbortSignal;
}

/** Calls a stage function and returns its manifest, or throws a classified ClipseekError. */
export type StageInvoker = (
  stage: FunctionStageName,
  input: unknown,
  options: InvokeOptions,
) => Promise<StageManifest>;

/** A manifest is small; an answer past this is a broken stage, not something to buffer. */
const MAX_ANSWER_BYTES = 32 * 2 ** 20;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Invokes stages synchronously through the OpenFaaS gateway
 * (`POST {gateway}/function/<stage>`). Status mapping: 2xx → manifest;
 * 429 and 5xx → retryable (Retry-After honoured); other 4xx → not retryable,
 * keeping the stage's own error code; timeouts and connection resets → retryable.
 *
 * Plain node:http with keep-alive rather than an HTTP client library: a request
 * with 40 000 tasks makes 40 000 calls, and a library's per-call option merging
 * was a measurable share of the orchestrator's CPU (bench/orchestration.ts).
 */
export function createGatewayInvoker(
  gatewayUrl: string,
  options: { auth?: string; headers?: Record<string, string> } = {},
): StageInvoker {
  const base = new URL(gatewayUrl.replace(/\/+$/, ''));
  const secure = base.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  const basePath = base.pathname.replace(/\/+$/, '');
  const fixedHeaders = {
    'content-type': 'application/json',
    ...options.headers,
    ...(options.auth ? { authorization: options.auth } : {}),
  };

  function post(stage: FunctionStageName, body: string, { timeoutMs, callId, signal }: InvokeOptions) {
    return new Promise<Answer>((resolve, reject) => {
      const req = send(
        {
          agent,
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: `${basePath}/function/${stage}`,
          method: 'POST',
          headers: { ...fixedHeaders, 'content-length': Buffer.byteLength(body), 'x-call-id': callId },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) {
              req.destroy(new RetryableError('STAGE_BAD_RESPONSE', `${stage} answered more than 32 MiB`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      const timer = setTimeout(
        () =>
          req.destroy(new TimeoutError('STAGE_TIMEOUT', `${stage} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end(body);
    });
  }

  return async (stage, input, invokeOptions) => {
    let answer: Answer;
    try {
      answer = await post(stage, JSON.stringify(input), invokeOptions);
    } catch (err) {
      throw classifyTransportError(stage, err);
    }
    const body = parseJson(answer.body);
    if (answer.status >= 200 && answer.status < 300) {
      const manifest = AnyManifest.safeParse(body);
      if (!manifest.success || manifest.data.stage !== stage) {
        throw new RetryableError('STAGE_BAD_RESPONSE', `${stage} answered 200 without a valid manifest`, {
          details: { status: answer.status },
        });
      }
      return manifest.data;
    }
    throw classifyHttpError(
      stage,
      answer.status,
      body,
      answer.headers['retry-after'],
      answer.headers['x-clipseek-retryable'],
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
  stage: FunctionStageName,
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

function classifyTransportError(stage: FunctionStageName, err: unknown): ClipseekError {
  if (err instanceof ClipseekError) return err; // our own timeout or size limit
  if (err instanceof Error && err.name === 'AbortError')
    return new CancelledError(`${stage} call aborted`, { cause: err });
  const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
  return new RetryableError('GATEWAY_UNREACHABLE', `${stage}: ${code}`, { cause: err });
}
