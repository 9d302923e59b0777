import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import type { Word } from '../../common/contracts/stages.js';
import { CancelledError, ClipseekError, RetryableError, TimeoutError } from '../../common/errors.js';
import { parseRetryAfter } from '../../common/http/retry-after.js';
import { languageCode, type TranscribeOptions, type Transcriber, type Transcript } from './transcriber.js';

export interface HttpTranscriberOptions {
  /** Server root: the call goes to `${baseUrl}/v1/audio/transcriptions`. */
  baseUrl: string;
  model: string;
  /** Sent as a Bearer token when set. */
  apiKey?: string | undefined;
  timeoutMs?: number;
}

const ResponseWord = z.looseObject({
  word: z.string(),
  start: z.number(),
  end: z.number(),
  probability: z.number().optional(),
});
const ResponseSegment = z.looseObject({
  start: z.number(),
  end: z.number(),
  text: z.string().default(''),
  no_speech_prob: z.number().optional(),
  avg_logprob: z.number().optional(),
  words: z.array(ResponseWord).optional(),
});
/** verbose_json as OpenAI, whisper.cpp's server and faster-whisper servers write it. */
const VerboseJson = z.looseObject({
  text: z.string().default(''),
  words: z.array(ResponseWord).optional(),
  segments: z.array(ResponseSegment).optional(),
});
type VerboseJson = z.infer<typeof VerboseJson>;
type ResponseSegment = z.infer<typeof ResponseSegment>;

/**
 * Posts the WAV to an OpenAI-compatible speech endpoint (multipart: file,
 * model, response_format=verbose_json, timestamp_granularities[]=word and
 * segment, language). 429 and 5xx are retryable, other 4xx are not.
 */
export class HttpTranscriber implements Transcriber {
  readonly engine: string;
  private readonly url: string;
  private readonly model: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: HttpTranscriberOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/v1/audio/transcriptions`;
    this.model = options.model;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 240_000;
    this.engine = `openai-compatible:${options.model}`;
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Transcript> {
    const form = new FormData();
    form.append('file', new Blob([await readFile(wavPath)], { type: 'audio/wav' }), basename(wavPath));
    form.append('model', this.model);
    form.append('response_format', 'verbose_json');
    form.append('timestamp_granularities[]', 'word');
    form.append('timestamp_granularities[]', 'segment');
    form.append('language', languageCode(options.language));

    const body = await this.post(form, options.signal);
    const parsed = VerboseJson.safeParse(body);
    if (!parsed.success) {
      throw new RetryableError('TRANSCRIBER_BAD_RESPONSE', 'speech server answered with an unexpected body', {
        status: 502,
        details: { issues: parsed.error.issues.slice(0, 5) },
      });
    }
    return { engine: this.engine, ...heardSpeech(parsed.data) };
  }

  private async post(form: FormData, signal: AbortSignal | undefined): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        body: form,
        headers,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (res.ok) return await res.json();
    } catch (err) {
      if (signal?.aborted) throw new CancelledError('transcription cancelled', { cause: err });
      if (timeout.aborted) {
        throw new TimeoutError(
          'TRANSCRIBE_TIMEOUT',
          `speech server did not answer within ${this.timeoutMs} ms`,
          {
            cause: err,
          },
        );
      }
      if (err instanceof SyntaxError) {
        throw new RetryableError('TRANSCRIBER_BAD_RESPONSE', 'speech server answered with invalid JSON', {
          status: 502,
          cause: err,
        });
      }
      throw new RetryableError('TRANSCRIBER_UNREACHABLE', 'speech server could not be reached', {
        cause: err,
      });
    }
    throw await httpError(res);
  }
}

async function httpError(res: Response): Promise<ClipseekError> {
  const bodyTail = (await res.text().catch(() => '')).slice(0, 500);
  const details = { http_status: res.status, body: bodyTail };
  if (res.status === 429) {
    return new RetryableError('TRANSCRIBER_BUSY', 'speech server is rate limiting (429)', {
      status: 429,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      details,
    });
  }
  if (res.status >= 500) {
    return new RetryableError('TRANSCRIBER_ERROR', `speech server failed (${res.status})`, {
      status: 502,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      details,
    });
  }
  return new ClipseekError('TRANSCRIBE_REJECTED', `speech server rejected the request (${res.status})`, {
    status: 502,
    retryable: false,
    details,
  });
}

/** Whisper's own rule for a segment that is silence despite its text. */
const isSilentSegment = (s: ResponseSegment): boolean =>
  (s.no_speech_prob ?? 0) > 0.6 && (s.avg_logprob ?? 0) < -1;

/**
 * Words with times from a verbose_json body: top-level `words` (OpenAI),
 * else per-segment `words` (whisper.cpp), else each segment's text spread
 * evenly over the segment. Segments the model itself flags as silence are
 * dropped with their words, so silence gives no text rather than a
 * hallucinated "Thank you."
 */
function heardSpeech(body: VerboseJson): { text: string; words: Word[] } {
  const segments = body.segments ?? [];
  const kept = segments.filter((s) => !isSilentSegment(s));
  const silent = segments.filter(isSilentSegment);
  const heardInSilence = (w: { start: number; end: number }) => {
    const middle = (w.start + w.end) / 2;
    return silent.some((s) => middle >= s.start && middle <= s.end);
  };

  let raw = body.words ?? kept.flatMap((s) => s.words ?? []);
  if (raw.length === 0) raw = kept.flatMap(spreadSegmentText);
  const words: Word[] = raw
    .filter((w) => !heardInSilence(w))
    .flatMap((w) => {
      const word = w.word.trim();
      if (!/[\p{L}\p{N}]/u.test(word)) return [];
      const out: Word = { word, start: w.start, end: Math.max(w.start, w.end) };
      if (w.probability !== undefined) out.confidence = Math.min(1, Math.max(0, w.probability));
      return [out];
    });
  if (words.length === 0) return { text: '', words: [] };
  const text = segments.length > 0 ? kept.map((s) => s.text.trim()).join(' ') : body.text.trim();
  return { text: text || words.map((w) => w.word).join(' '), words };
}

function spreadSegmentText(s: ResponseSegment): Array<{ word: string; start: number; end: number }> {
  const tokens = s.text.split(/\s+/).filter(Boolean);
  const step = tokens.length > 0 ? (s.end - s.start) / tokens.length : 0;
  return tokens.map((word, i) => ({ word, start: s.start + i * step, end: s.start + (i + 1) * step }));
}
