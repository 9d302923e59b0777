import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipseekError } from '../../common/errors.js';
import { createGatewayInvoker } from '../../functions/orchestrator/invoker.js';

/** A gateway stand-in whose answer is chosen by the path: /function/<stage> with the stage name as a script. */
let server: Server;
let base: string;
const manifest = {
  schema_version: 1,
  stage: 'extract-audio',
  request_id: 'r_abc',
  clip: null,
  digest: 'a'.repeat(64),
  created_at: '2026-11-25T10:00:00.000Z',
  duration_ms: 5,
  output: {},
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const mode = req.headers['x-mode'];
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (code: string) => ({ error: { code, message: code.toLowerCase(), details: { hint: 1 } } });
    switch (mode) {
      case 'ok':
        return send(200, manifest);
      case 'wrong-stage':
        return send(200, { ...manifest, stage: 'cut-clips' });
      case '422':
        return send(422, error('UNREADABLE_MEDIA'), { 'x-clipseek-retryable': 'false' });
      case '500':
        return send(500, error('FFMPEG_FAILED'));
      case '500-final':
        return send(500, error('OUTPUT_INVALID'), { 'x-clipseek-retryable': 'false' });
      case '429':
        return send(429, 'busy', { 'retry-after': '2' });
      case '502':
        res.writeHead(502);
        return res.end('bad gateway');
      case '504':
        return send(504, error('EXEC_TIMEOUT'));
      case 'hang':
        return; // never answers
      case 'reset':
        return req.socket.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

async function invokeWith(mode: string, timeoutMs = 2000) {
  return createGatewayInvoker(base, { headers: { 'x-mode': mode } })(
    'extract-audio',
    { request_id: 'r_abc' },
    { timeoutMs, callId: 'c1' },
  );
}

describe('gateway invoker: how stage answers are classified', () => {
  it('200 with a manifest of that stage is the result', async () => {
    await expect(invokeWith('ok')).resolves.toMatchObject({ stage: 'extract-audio' });
  });

  it.each([
    ['wrong-stage', 'STAGE_BAD_RESPONSE', true, undefined],
    ['422', 'UNREADABLE_MEDIA', false, 422],
    ['500', 'FFMPEG_FAILED', true, 500],
    ['500-final', 'OUTPUT_INVALID', false, 500],
    ['429', 'STAGE_BUSY', true, 429],
    ['502', 'STAGE_UNAVAILABLE', true, 502],
    ['504', 'STAGE_TIMEOUT', true, 504],
    ['reset', 'GATEWAY_UNREACHABLE', true, 503],
  ])('%s → %s (retryable %s)', async (mode, code, retryable, status) => {
    const err = await invokeWith(mode).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClipseekError);
    expect(err).toMatchObject({ code, retryable });
    if (status) expect((err as ClipseekError).status).toBe(status);
  });

  it('keeps the Retry-After of a 429', async () => {
    await expect(invokeWith('429')).rejects.toMatchObject({ retryAfterMs: 2000 });
  });

  it('an aborted call is CANCELLED, not retried', async () => {
    const aborter = new AbortController();
    const call = createGatewayInvoker(base, { headers: { 'x-mode': 'hang' } })(
      'extract-audio',
      {},
      { timeoutMs: 5000, callId: 'c2', signal: aborter.signal },
    );
    setTimeout(() => aborter.abort(), 50);
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED', retryable: false });
  });

  it('sends the call id, the JSON input and the configured authorization', async () => {
    const seen = await new Promise<{ headers: Record<string, unknown>; body: string }>((resolve) => {
      const echo = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => {
          body += c;
        });
        req.on('end', () => {
          resolve({ headers: req.headers, body });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(manifest));
          echo.close();
        });
      });
      echo.listen(0, '127.0.0.1', () => {
        const port = (echo.address() as AddressInfo).port;
        void createGatewayInvoker(`http://127.0.0.1:${port}/`, { auth: 'Basic abc' })(
          'extract-audio',
          { request_id: 'r_abc', n: 'é' },
          { timeoutMs: 2000, callId: 'call-7' },
        );
      });
    });
    expect(seen.headers).toMatchObject({ 'x-call-id': 'call-7', authorization: 'Basic abc' });
    expect(JSON.parse(seen.body)).toEqual({ request_id: 'r_abc', n: 'é' });
  });

  it('a stage that does not answer within the timeout is a retryable STAGE_TIMEOUT', async () => {
    await expect(invokeWith('hang', 150)).rejects.toMatchObject({ code: 'STAGE_TIMEOUT', retryable: true });
  });
});
