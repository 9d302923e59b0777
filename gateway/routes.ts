/**
 * The gateway's HTTP API: /healthz, /function/<name>, /async-function/<name>,
 * /system/functions and /system/function/<name>. Every answer carries
 * X-Call-Id, and every call is logged with its status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError } from '../common/errors.js';
import { sendError, sendResponse, takeCallId } from '../common/openfaas/http.js';
import { MethodNotAllowedError } from '../common/openfaas/method-error.js';
import { enqueueAsync } from './async-worker.js';
import type { GatewayContext } from './context.js';
import { hasBasicAuth, UnauthorizedError } from './http.js';
import { proxySync } from './sync-proxy.js';
import { functionStatus } from './system-api.js';

const ROUTE = /^\/(function|async-function)\/([-a-zA-Z0-9_.]+)(\/[^?]*)?$/;
const SYSTEM_FUNCTION = /^\/system\/function\/([-a-zA-Z0-9_.]+)$/;

export function routeRequests(ctx: GatewayContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(ctx, req, res);
  };
}

async function handle(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const callId = takeCallId(req, res);
  const { pathname, search } = new URL(req.url ?? '/', 'http://gateway.local');
  let status: number;
  try {
    status = await dispatch(ctx, req, res, { pathname, rawQuery: search.slice(1), callId });
  } catch (err) {
    status = sendError(
      res,
      err,
      err instanceof UnauthorizedError ? { 'WWW-Authenticate': 'Basic realm="Restricted"' } : {},
    );
  }
  ctx.settings.logger.info(
    {
      method: req.method,
      path: pathname,
      status,
      call_id: callId,
      duration_ms: Math.round(performance.now() - started),
    },
    'gateway call',
  );
}

async function dispatch(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: { pathname: string; rawQuery: string; callId: string },
): Promise<number> {
  const { pathname } = target;
  if (pathname === '/healthz') {
    return sendResponse(res, { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'OK' });
  }
  const fnRoute = ROUTE.exec(pathname);
  if (!fnRoute && !pathname.startsWith('/system/')) {
    throw new NotFoundError('ROUTE_NOT_FOUND', `no route for ${pathname}`);
  }
  const { basicAuth } = ctx.settings;
  if (basicAuth && !hasBasicAuth(req, basicAuth)) throw new UnauthorizedError();
  if (fnRoute) {
    const [, kind, name, subPath] = fnRoute;
    const fn = ctx.functions.get(name!);
    if (!fn)
      throw new NotFoundError('FUNCTION_NOT_FOUND', `function ${name} not found`, { details: { name } });
    const call = { req, res, fn, subPath: subPath ?? '', rawQuery: target.rawQuery, callId: target.callId };
    return kind === 'async-function' ? enqueueAsync(ctx, call) : proxySync(ctx, call);
  }
  if (req.method !== 'GET') throw new MethodNotAllowedError(req.method ?? '', ['GET']);
  if (pathname === '/system/functions') {
    return sendResponse(res, { status: 200, body: [...ctx.functions.values()].map(functionStatus) });
  }
  const one = SYSTEM_FUNCTION.exec(pathname);
  const fn = one ? ctx.functions.get(one[1]!) : undefined;
  if (!fn) throw new NotFoundError('FUNCTION_NOT_FOUND', `no such function or route: ${pathname}`);
  return sendResponse(res, { status: 200, body: functionStatus(fn) });
}
