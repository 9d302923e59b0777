import { startFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { sampleFrames } from './stage.js';

await serveStage(sampleFrames, async (rt) => ({
  ffmpeg: await startFfmpegRunner({ env: rt.env, logger: rt.logger }),
}));
