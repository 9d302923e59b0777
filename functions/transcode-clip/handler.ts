import { startFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { transcodeClip } from './stage.js';

await serveStage(transcodeClip, async (rt) => ({
  ffmpeg: await startFfmpegRunner({ env: rt.env, logger: rt.logger }),
}));
