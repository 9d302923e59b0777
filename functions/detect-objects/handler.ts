import { serveStage } from '../../common/openfaas/serve.js';
import { createHumanDetector } from './human-detector.js';
import { detectObjects } from './stage.js';

// One detector per process. The model starts loading now; a failed load is
// logged here and reported (DETECTOR_UNAVAILABLE) by the calls that need it.
await serveStage(detectObjects, (rt) => {
  const detector = createHumanDetector({ logger: rt.logger });
  detector.warmUp().catch((err: unknown) => rt.logger.error({ err }, 'object detector failed to load'));
  return { detector };
});
