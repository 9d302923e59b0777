/**
 * Async calls, as the OpenFaaS gateway and queue-worker take them: a POST is
 * answered 202 with its X-Call-Id at once (413 past the body limit), runs
 * later from the queue (async-queue.ts), and its answer is POSTed once to
 * X-Callback-Url with X-Function-Status, X-Function-Name and X-Duration-Seconds.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { InputError } from '../common/errors.js';
import { errorAnswer } from '../common/openfaas/error-response.js';
import { firstHeader, readBody } from '../common/openfaas/http.js';
import { MethodNotAllowedError } from '../common/openfaas/method-error.js';
import type { AsyncJob } from './async-queue.js';
import { parseCallbackUrl, postCallback } from './callback.js';
import { type FunctionCall, type GatewayContext, upstreamCall } from './context.js';
import { durationSeconds, forwardableHeaders } from './http.js';
import { callBuffered, deadlineFor } from './upstream.js';

/** Queues the call and answers 202; resolves with the status answered. */
export async function enqueueAsync(ctx: GatewayContext, call: FunctionCall): Promise<number> {
  const { req, res, fn, callId } = call;
  if (req.method !== 'POST') throw new MethodNotAllowedError(req.method ?? '', ['POST']);
  const callbackHeader = firstHeader(req.headers['x-callback-url']);
  const callbackUrl = callbackHeader === undefined ? undefined : parseCallbackUrl(callbackHeader);
  if (callbackHeader !== undefined && !callbackUrl) {
    throw new InputError('INVALID_CALLBACK_URL', 'X-Callback-Url is not an absolute http(s) URL', {
      status: 400,
      details: { value: callbackHeader },
    });
  }
  const body = await readBody(req, ctx.settings.asyncMaxBodyBytes);
  ctx.queue.enqueue({ callId, fn, call: upstreamCall(call, body), callbackUrl, queuedAt: Date.now() });
  res.writeHead(202, { 'X-Call-Id': callId }).end();
  return 202;
}

/** Runs one queued call (its function slot already taken) and posts its answer to the callback. */
export async function runAsync(ctx: GatewayContext, job: AsyncJob): Promise<void> {
  const { logger } = ctx.settings;
  const started = performance.now();
  let status: number;
  let headers: OutgoingHttpHeaders;
  let body: Buffer;
  try {
    const port = await job.fn.ready(ctx.settings.readyTimeoutMs);
    const deadline = deadlineFor(job.fn.name, job.fn.spec.execTimeoutMs, ctx.stack.upstreamTimeoutMs);
    const answer = await callBuffered(port, { ...job.call, headers: { ...job.call.headers } }, deadline);
    status = answer.status;
    headers = forwardableHeaders(answer.headers);
    body = answer.body;
  } catch (err) {
    const answer = errorAnswer(err);
    status = answer.status;
    headers = { ...answer.headers, 'content-type': 'application/json' };
    body = Buffer.from(JSON.stringify(answer.body));
  }
  const duration = durationSeconds(started);
  logger.info(
    { function: job.fn.name, call_id: job.callId, status, duration_s: Number(duration) },
    'async call finished',
  );
  if (!job.callbackUrl) return;
  delete headers['content-length'];
  try {
    const callbackStatus = await postCallback(
      job.callbackUrl,
      {
        ...headers,
        'X-Call-Id': job.callId,
        'X-Function-Status': String(status),
        'X-Function-Name': job.fn.name,
        'X-Duration-Seconds': duration,
      },
      body,
      ctx.settings.callbackTimeoutMs,
    );
    logger.info(
      { call_id: job.callId, url: job.callbackUrl.href, status: callbackStatus },
      'callback posted',
    );
  } catch (err) {
    // Sent once, as the queue-worker does: the receiver must cope with a lost callback.
    logger.error({ err, call_id: job.callId, url: job.callbackUrl.href }, 'callback failed');
  }
}
