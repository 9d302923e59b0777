import { startFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { cutClips } from './stage.js';

await serveStage(cutClips, async (rt) => ({
  ffmpeg: await startFfmpegRunner({ env: rt.env, logger: rt.logger }),
}));
