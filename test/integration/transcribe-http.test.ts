/**
 * The OpenAI-compatible engine against a real local HTTP server that checks
 * the multipart request the way such servers read it and answers with
 * verbose_json (or with errors).
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { runStageOnce } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { HttpTranscriber } from '../../functions/transcribe-clip/http-transcriber.js';
import { transcribeClip } from '../../functions/transcribe-clip/stage.js';
import { silentWav } from '../helpers/speech.js';

interface ReceivedCall {
  path: string;
  authorization: string | undefined;
  form: FormData;
}

type Reply = (res: ServerResponse) => void;

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

let server: Server;
let baseUrl: string;
let nextReply: Reply = json(500, {});
const calls: ReceivedCall[] = [];

let root: string;
let wavPath: string;
let store: FolderStore;
const logger = createLogger({ name: 'test', level: 'silent' });

/** Parses the multipart body with the platform's own parser (undici), as a server framework would. */
async function readForm(req: IncomingMessage): Promise<FormData> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const request = new Request('http://local/', {
    method: 'POST',
    headers: { 'content-type': req.headers['content-type'] ?? '' },
    body: Buffer.concat(chunks),
  });
  return request.formData();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clipseek-transcribe-http-'));
  wavPath = join(root, 'clip.wav');
  await silentWav(wavPath, 4); // the server never listens to it: the body is what is checked
  store = new FolderStore(join(root, 'bucket'));
  server = createServer((req, res) => {
    readForm(req)
      .then((form) => {
        calls.push({ path: req.url ?? '', authorization: req.headers.authorization, form });
        nextReply(res);
      })
      .catch((err: unknown) => {
        res.writeHead(400);
        res.end(String(err));
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  calls.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe('HttpTranscriber (OpenAI-compatible /v1/audio/transcriptions)', () => {
  it('posts the WAV as multipart with model, verbose_json and word timestamps, and reads word times', async () => {
    nextReply = json(200, {
      task: 'transcribe',
      language: 'english',
      duration: 4,
      text: ' Find the budget.',
      words: [
        { word: ' Find', start: 0.5, end: 0.8 },
        { word: ' the', start: 0.8, end: 1.0 },
        { word: ' budget.', start: 1.1, end: 1.7 },
      ],
      segments: [
        { id: 0, start: 0.4, end: 1.8, text: ' Find the budget.', no_speech_prob: 0.01, avg_logprob: -0.2 },
      ],
    });
    const engine = new HttpTranscriber({ baseUrl: `${baseUrl}/`, model: 'whisper-1', apiKey: 'sk-test' });
    const out = await engine.transcribe(wavPath, { language: 'en-us' });

    expect(calls).toHaveLength(1);
    const { path, authorization, form } = calls[0]!;
    expect(path).toBe('/v1/audio/transcriptions');
    expect(authorization).toBe('Bearer sk-test');
    const file = form.get('file');
    expect(file).toBeInstanceOf(File);
    const sent = Buffer.from(await (file as File).arrayBuffer());
    expect(sent.equals(await readFile(wavPath))).toBe(true);
    expect((file as File).name).toBe('clip.wav');
    expect(form.get('model')).toBe('whisper-1');
    expect(form.get('response_format')).toBe('verbose_json');
    expect(form.getAll('timestamp_granularities[]')).toContain('word');
    expect(form.get('language')).toBe('en');

    expect(out).toEqual({
      engine: 'openai-compatible:whisper-1',
      text: 'Find the budget.',
      words: [
        { word: 'Find', start: 0.5, end: 0.8 },
        { word: 'the', start: 0.8, end: 1.0 },
        { word: 'budget.', start: 1.1, end: 1.7 },
      ],
    });
  });

  it('reads per-segment words (whisper.cpp server) and runs as the stage with clip-relative times', async () => {
    nextReply = json(200, {
      text: 'hello there',
      segments: [
        {
          start: 0.2,
          end: 2.5,
          text: ' hello there',
          words: [
            { word: ' hello', start: 0.2, end: 0.9, probability: 0.93 },
            { word: ' there', start: 1.0, end: 9.0, probability: 0.88 },
          ],
        },
      ],
    });
    await store.put('requests/r_http/transcode-clip/0002/audio.wav', await readFile(wavPath));
    const { manifest } = await runStageOnce(
      transcribeClip,
      {
        namespace: 'default',
        request_id: 'r_http',
        clip: 2,
        audio_key: 'requests/r_http/transcode-clip/0002/audio.wav',
        params: { language: 'en-us' },
      },
      {
        transcriber: new HttpTranscriber({ baseUrl, model: 'base.en' }),
        store,
        logger,
        signal: new AbortController().signal,
        now: () => new Date(),
      },
    );
    expect(calls[0]!.authorization).toBeUndefined();
    expect(manifest.output).toEqual({
      clip: 2,
      engine: 'openai-compatible:base.en',
      text: 'hello there',
      words: [
        { word: 'hello', start: 0.2, end: 0.9, confidence: 0.93 },
        { word: 'there', start: 1.0, end: 4, confidence: 0.88 }, // cut at the clip's 4 s
      ],
      no_speech: false,
    });
  });

  it('spreads segment text over the segment when the server gives no word times', async () => {
    nextReply = json(200, { text: 'one two', segments: [{ start: 1, end: 2, text: ' one two' }] });
    const out = await new HttpTranscriber({ baseUrl, model: 'm' }).transcribe(wavPath, { language: 'en' });
    expect(out.words).toEqual([
      { word: 'one', start: 1, end: 1.5 },
      { word: 'two', start: 1.5, end: 2 },
    ]);
  });

  it('treats segments the model flags as silence as no speech, not as "Thank you."', async () => {
    nextReply = json(200, {
      text: ' Thank you.',
      segments: [{ start: 0, end: 4, text: ' Thank you.', no_speech_prob: 0.93, avg_logprob: -1.4 }],
      words: [
        { word: ' Thank', start: 0, end: 1 },
        { word: ' you.', start: 1, end: 2 },
      ],
    });
    const out = await new HttpTranscriber({ baseUrl, model: 'm' }).transcribe(wavPath, { language: 'en' });
    expect(out).toEqual({ engine: 'openai-compatible:m', text: '', words: [] });
  });

  it('maps 503 and 429 to retryable errors (with Retry-After), other 4xx to a non-retryable one', async () => {
    const engine = new HttpTranscriber({ baseUrl, model: 'm' });
    nextReply = json(503, { error: { message: 'loading model' } });
    const unavailable = await engine.transcribe(wavPath, { language: 'en' }).catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(RetryableError);
    expect(unavailable).toMatchObject({ code: 'TRANSCRIBER_ERROR', retryable: true });

    nextReply = json(429, { error: { message: 'slow down' } }, { 'retry-after': '7' });
    const busy = await engine.transcribe(wavPath, { language: 'en' }).catch((e: unknown) => e);
    expect(busy).toMatchObject({
      code: 'TRANSCRIBER_BUSY',
      status: 429,
      retryable: true,
      retryAfterMs: 7000,
    });

    nextReply = json(400, { error: { message: 'unknown model' } });
    const rejected = await engine.transcribe(wavPath, { language: 'en' }).catch((e: unknown) => e);
    expect(rejected).toMatchObject({ code: 'TRANSCRIBE_REJECTED', retryable: false });
    expect(JSON.stringify((rejected as { details: unknown }).details)).toContain('unknown model');
  });

  it('an unreachable server is retryable; a server past the timeout is TRANSCRIBE_TIMEOUT', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = new HttpTranscriber({ baseUrl: `http://127.0.0.1:${port}`, model: 'm' });
    await expect(unreachable.transcribe(wavPath, { language: 'en' })).rejects.toMatchObject({
      code: 'TRANSCRIBER_UNREACHABLE',
      retryable: true,
    });

    nextReply = (res) => setTimeout(() => json(200, { text: '' })(res), 1000);
    const slow = new HttpTranscriber({ baseUrl, model: 'm', timeoutMs: 100 });
    await expect(slow.transcribe(wavPath, { language: 'en' })).rejects.toMatchObject({
      code: 'TRANSCRIBE_TIMEOUT',
      retryable: true,
    });
  });

  it('a caller abort cancels the call', async () => {
    nextReply = (res) => setTimeout(() => json(200, { text: '' })(res), 1000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      new HttpTranscriber({ baseUrl, model: 'm' }).transcribe(wavPath, {
        language: 'en',
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
