import { serveStage } from '../../common/openfaas/serve.js';
import { segmentSpeech } from './stage.js';

await serveStage(segmentSpeech, () => ({}));
