import { createFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { cutClips } from './stage.js';

await serveStage(cutClips, (rt) => ({ ffmpeg: createFfmpegRunner({ env: rt.env, logger: rt.logger }) }));
