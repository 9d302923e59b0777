import { createFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { sampleFrames } from './stage.js';

await serveStage(sampleFrames, (rt) => ({ ffmpeg: createFfmpegRunner({ env: rt.env, logger: rt.logger }) }));
