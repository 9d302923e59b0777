import { z } from 'zod';
import { parseConfig } from '../../common/config.js';
import { gatewayAuthorization, invokeAsync } from '../../common/gateway-client.js';
import { serveFunction } from '../../common/openfaas/serve.js';
import { CallbackOutbox } from '../orchestrator/callback-outbox.js';
import { loadCallbackSettings } from '../orchestrator/config.js';
import { sweep } from './sweep.js';

const Env = z.object({
  GATEWAY_URL: z.url().default('http://127.0.0.1:8080'),
  SWEEP_GRACE_S: z.coerce.number().min(0).default(5),
});

/** Invoked by the cron-connector (schedule in stack.yml) or by hand: POST /function/sweeper. */
await serveFunction('sweeper', (rt) => {
  const env = parseConfig(Env, rt.env);
  const auth = gatewayAuthorization(rt.env);
  const { signingKey, ...callback } = loadCallbackSettings(rt.env);
  if (!signingKey) rt.logger.warn('no callback-signing-key: callbacks left by a dead orchestrator wait');
  // Callbacks whose orchestrator died before delivering them are sent from here.
  const callbacks = signingKey
    ? new CallbackOutbox({
        store: rt.store,
        logger: rt.logger,
        now: rt.now,
        settings: { ...callback, signingKey },
      })
    : undefined;
  return async () => {
    const report = await sweep({
      store: rt.store,
      logger: rt.logger,
      now: rt.now,
      graceMs: env.SWEEP_GRACE_S * 1000,
      resume: (id) => invokeAsync(env.GATEWAY_URL, 'orchestrator', { resume: id }, auth),
      ...(callbacks ? { callbacks } : {}),
    });
    return { status: 200, body: report };
  };
});
