import { z } from 'zod';
import { parseConfig, readSecret } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import { HttpTranscriber } from './http-transcriber.js';
import { DEBIAN_EN_US_MODEL_DIR, PocketsphinxTranscriber } from './pocketsphinx.js';
import type { Transcriber } from './transcriber.js';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

const TranscribeEnv = z.object({
  /** Root of an OpenAI-compatible speech server; unset = offline pocketsphinx. */
  TRANSCRIBE_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/ }).optional()),
  TRANSCRIBE_MODEL: z.preprocess(emptyToUndefined, z.string().min(1).default('whisper-1')),
  /** Safety net per engine call; the stage's own deadline arrives as its AbortSignal. */
  TRANSCRIBE_TIMEOUT_S: z.preprocess(emptyToUndefined, z.coerce.number().positive().max(3600).default(240)),
  POCKETSPHINX_PATH: z.preprocess(emptyToUndefined, z.string().min(1).default('pocketsphinx_continuous')),
  POCKETSPHINX_MODEL_DIR: z.preprocess(emptyToUndefined, z.string().min(1).default(DEBIAN_EN_US_MODEL_DIR)),
});

/**
 * The engine this process uses, chosen once from its environment:
 * TRANSCRIBE_URL set → HttpTranscriber (API key from the `transcribe-api-key`
 * secret, or TRANSCRIBE_API_KEY), else PocketsphinxTranscriber.
 */
export function createTranscriberFromEnv(env: NodeJS.ProcessEnv, logger?: Logger): Transcriber {
  const config = parseConfig(TranscribeEnv, env);
  const timeoutMs = config.TRANSCRIBE_TIMEOUT_S * 1000;
  const transcriber: Transcriber = config.TRANSCRIBE_URL
    ? new HttpTranscriber({
        baseUrl: config.TRANSCRIBE_URL,
        model: config.TRANSCRIBE_MODEL,
        apiKey: readSecret('transcribe-api-key', env),
        timeoutMs,
      })
    : new PocketsphinxTranscriber({
        binary: config.POCKETSPHINX_PATH,
        modelDir: config.POCKETSPHINX_MODEL_DIR,
        timeoutMs,
      });
  logger?.info({ engine: transcriber.engine }, 'speech engine chosen');
  return transcriber;
}
