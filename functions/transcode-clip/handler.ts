import { createFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { transcodeClip } from './stage.js';

await serveStage(transcodeClip, (rt) => ({ ffmpeg: createFfmpegRunner({ env: rt.env, logger: rt.logger }) }));
