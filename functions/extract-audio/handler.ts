import { startFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { extractAudio } from './stage.js';

await serveStage(extractAudio, async (rt) => ({
  ffmpeg: await startFfmpegRunner({ env: rt.env, logger: rt.logger }),
}));
