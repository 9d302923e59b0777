import { invokeAsync } from '../../common/gateway-client.js';
import { serveFunction } from '../../common/openfaas/serve.js';
import { loadOrchestratorConfig } from './config.js';
import { createGatewayInvoker } from './invoker.js';
import { orchestratorHandler } from './routes.js';
import { OrchestratorService } from './service.js';

await serveFunction('orchestrator', (rt) => {
  const config = loadOrchestratorConfig(rt.env);
  const service = new OrchestratorService({
    store: rt.store,
    invoke: createGatewayInvoker(config.gatewayUrl, config.gatewayAuth ? { auth: config.gatewayAuth } : {}),
    logger: rt.logger,
    now: rt.now,
    random: Math.random,
    config,
    continueLater: (id) => invokeAsync(config.gatewayUrl, 'orchestrator', { resume: id }, config.gatewayAuth),
    // On shutdown, drivers stop without writing more; their leases expire and a resume takes over.
    stopSignal: rt.stopping,
  });
  return orchestratorHandler(service);
});
