import { serveStage } from '../../common/openfaas/serve.js';
import { createTranscriberFromEnv } from './engines.js';
import { transcribeClip } from './stage.js';

await serveStage(transcribeClip, (rt) => ({ transcriber: createTranscriberFromEnv(rt.env, rt.logger) }));
