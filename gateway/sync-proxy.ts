/**
 * A sync call, as the OpenFaaS gateway proxies it: streamed both ways, at
 * most max_inflight at once per function (429 past it), cut at the deadline
 * (504 past exec_timeout, 502 past upstream_timeout), and dropped when the
 * caller hangs up.
 */
import { pipeline } from 'node:stream/promises';
import { RetryableError } from '../common/errors.js';
import { errorAnswer } from '../common/openfaas/error-response.js';
import { sendError } from '../common/openfaas/http.js';
import { type FunctionCall, type GatewayContext, upstreamCall } from './context.js';
import type { FunctionProcess } from './function-process.js';
import { durationSeconds, forwardableHeaders } from './http.js';
import { deadlineFor, startUpstream } from './upstream.js';

/** Proxies the call; resolves with the status answered. */
export async function proxySync(ctx: GatewayContext, call: FunctionCall): Promise<number> {
  const { req, res, fn, callId } = call;
  if (!fn.tryAcquire()) throw tooManyRequests(fn);
  const started = performance.now();
  try {
    const port = await fn.ready(ctx.settings.readyTimeoutMs);
    const upstream = startUpstream(port, upstreamCall(call, req));
    const deadline = deadlineFor(fn.name, fn.spec.execTimeoutMs, ctx.stack.upstreamTimeoutMs);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.abort();
      if (res.headersSent) res.destroy();
      else sendError(res, deadline.error);
    }, deadline.ms);
    // A caller that hangs up cancels the function call too.
    res.once('close', () => {
      if (!res.writableFinished) upstream.abort();
    });
    try {
      const answer = await upstream.response;
      res.writeHead(answer.statusCode ?? 502, {
        ...forwardableHeaders(answer.headers),
        'X-Call-Id': callId,
        'X-Duration-Seconds': durationSeconds(started),
      });
      await pipeline(answer, res);
      return answer.statusCode ?? 502;
    } catch (err) {
      if (timedOut) return errorAnswer(deadline.error).status;
      return sendError(res, err);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    fn.release();
    // The freed slot may be what a queued async call waits for.
    ctx.queue.pump();
  }
}

function tooManyRequests(fn: FunctionProcess): RetryableError {
  return new RetryableError(
    'TOO_MANY_REQUESTS',
    `${fn.name} is at its max_inflight (${fn.spec.maxInflight})`,
    {
      status: 429,
      details: { function: fn.name, max_inflight: fn.spec.maxInflight },
    },
  );
}
