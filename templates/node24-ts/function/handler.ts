// A starting point for `faas-cli new --lang node24-ts <name>`: move it to
// functions/<name>/handler.ts. Stages use serveStage(stage, createDeps) instead.
// The function builds its clients once from the runtime and returns the handler.
import { serveFunction } from '../../common/openfaas/serve.js';

await serveFunction('example', (_rt) => async (req) => ({
  status: 200,
  body: { hello: 'world', call_id: req.callId, received: req.body ?? null },
}));
