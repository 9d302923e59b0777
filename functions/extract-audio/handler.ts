import { createFfmpegRunner } from '../../common/ffmpeg/runner.js';
import { serveStage } from '../../common/openfaas/serve.js';
import { extractAudio } from './stage.js';

await serveStage(extractAudio, (rt) => ({ ffmpeg: createFfmpegRunner({ env: rt.env, logger: rt.logger }) }));
