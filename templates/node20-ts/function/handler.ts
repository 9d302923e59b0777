// A starting point for `faas-cli new --lang node20-ts <name>`: move it to
// functions/<name>/handler.ts. Stages use serveStage(stage, createDeps) instead.
import { serveFunction } from '../../common/openfaas/serve.js';

await serveFunction('example', async (req) => ({
  status: 200,
  body: { hello: 'world', call_id: req.callId, received: req.body ?? null },
}));
