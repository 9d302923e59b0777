import {
  CancelRequest,
  ResumeRequest,
  StatusRequest,
  SubmitRequest,
} from '../../common/contracts/request.js';
import { InputError } from '../../common/errors.js';
import { invokeAsync } from '../../common/gateway-client.js';
import { serveFunction } from '../../common/openfaas/serve.js';
import { loadOrchestratorConfig } from './config.js';
import { createGatewayInvoker } from './invoker.js';
import { toHttp } from './respond.js';
import { OrchestratorService } from './service.js';

let service: OrchestratorService | undefined;
// On shutdown, drivers stop without writing more; their leases expire and a resume takes over.
const stopping = new AbortController();
process.once('SIGTERM', () => stopping.abort());
process.once('SIGINT', () => stopping.abort());

await serveFunction(
  'orchestrator',
  async (req) => {
    if (!service) throw new Error('orchestrator not initialised');
    const body = req.body;
    if (req.method !== 'POST')
      throw new InputError('METHOD_NOT_ALLOWED', 'POST a JSON body', { status: 405 });
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      if ('resume' in body) return toHttp(await service.resume(parse(ResumeRequest, body).resume));
      if ('cancel' in body) return toHttp(await service.cancel(parse(CancelRequest, body).cancel));
      if ('status' in body) return toHttp(await service.status(parse(StatusRequest, body).status));
    }
    const idempotencyKey = header(req.headers['idempotency-key']);
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
      throw new InputError('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key: 1-200 printable ASCII characters');
    }
    // Only a call id the gateway sent (not one the adapter made up) identifies a redelivery.
    const gatewayCallId = header(req.headers['x-call-id']) ? req.callId : undefined;
    return toHttp(await service.submit(parse(SubmitRequest, body), idempotencyKey, gatewayCallId));
  },
  {
    init: (rt) => {
      const config = loadOrchestratorConfig(rt.env);
      service = new OrchestratorService({
        store: rt.store,
        invoke: createGatewayInvoker(
          config.gatewayUrl,
          config.gatewayAuth ? { auth: config.gatewayAuth } : {},
        ),
        logger: rt.logger,
        now: rt.now,
        random: Math.random,
        config,
        continueLater: (id) =>
          invokeAsync(config.gatewayUrl, 'orchestrator', { resume: id }, config.gatewayAuth),
        stopSignal: stopping.signal,
      });
    },
  },
);

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

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
