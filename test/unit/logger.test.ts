import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl, withContext } from '../../common/logger.js';

/** A pino destination that keeps every line in memory. */
function memory() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { destination, lines, raw };
}

const SIGNED =
  'http://127.0.0.1:9000/media/r/clip.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-Signature=0123456789abcdef&X-Amz-Security-Token=SESSIONTOKEN&X-Amz-SignedHeaders=host';

function flush() {
  return new Promise((r) => setImmediate(r));
}

describe('redactUrl', () => {
  it('strips signatures, credentials and tokens but keeps the rest of the URL', () => {
    const out = redactUrl(SIGNED);
    for (const secret of ['0123456789abcdef', 'AKIAEXAMPLE', 'SESSIONTOKEN'])
      expect(out).not.toContain(secret);
    expect(out).toContain('http://127.0.0.1:9000/media/r/clip.mp4?');
    expect(out).toContain('X-Amz-Expires=60');
    expect(out).toContain('X-Amz-Signature=[REDACTED]');
  });

  it('strips user:password@ from URLs', () => {
    expect(redactUrl('connect to https://admin:pa55@minio:9000/x')).toBe(
      'connect to https://[REDACTED]@minio:9000/x',
    );
  });

  it('leaves ordinary text alone', () => {
    expect(redactUrl('stage done in 12 ms, key requests/a/b.json')).toBe(
      'stage done in 12 ms, key requests/a/b.json',
    );
  });
});

describe('createLogger', () => {
  it('writes JSON lines with a textual level and the name', async () => {
    const mem = memory();
    const log = createLogger({ name: 'orchestrator', level: 'debug', destination: mem.destination });
    log.debug({ n: 1 }, 'hello');
    await flush();
    expect(mem.lines[0]).toMatchObject({ level: 'debug', name: 'orchestrator', n: 1, msg: 'hello' });
  });

  it('redacts credentials in fields', async () => {
    const mem = memory();
    const log = createLogger({ name: 't', destination: mem.destination });
    log.info(
      {
        password: 'p4ss',
        secret: 'shh',
        authorization: 'Bearer tok',
        headers: { authorization: 'Basic abc', 'webhook-signature': 'v1,ZGVhZGJlZWY=', accept: 'json' },
        credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'SK1' },
        s3: { accessKeyId: 'AKIA2', secretAccessKey: 'SK2', sessionToken: 'ST2', bucket: 'media' },
        db: { password: 'p2' },
      },
      'configured',
    );
    await flush();
    for (const secret of [
      'p4ss',
      'shh',
      'Bearer tok',
      'Basic abc',
      'v1,ZGVhZGJlZWY=',
      'AKIA1',
      'SK1',
      'AKIA2',
      'SK2',
      'ST2',
      'p2',
    ]) {
      expect(mem.raw[0]).not.toContain(secret);
    }
    expect(mem.lines[0]).toMatchObject({ s3: { bucket: 'media' }, headers: { accept: 'json' } });
  });

  it('redacts signed URLs in messages, in url fields and in interpolated arguments', async () => {
    const mem = memory();
    const log = createLogger({ name: 't', destination: mem.destination });
    log.info(`fetching ${SIGNED}`);
    log.info({ url: SIGNED }, 'fetch');
    log.info('fetching %s', SIGNED);
    await flush();
    expect(mem.raw).toHaveLength(3);
    for (const line of mem.raw) {
      expect(line).not.toContain('0123456789abcdef');
      expect(line).not.toContain('SESSIONTOKEN');
    }
    expect(mem.lines[1]!.url).toContain('X-Amz-Signature=[REDACTED]');
  });

  it('serializes errors with their message, redacting signed URLs in them', async () => {
    const mem = memory();
    const log = createLogger({ name: 't', destination: mem.destination });
    log.error({ err: new Error(`GET ${SIGNED} failed`) }, 'download failed');
    await flush();
    const err = mem.lines[0]!.err as { message: string; type: string };
    expect(err.type).toBe('Error');
    expect(err.message).toContain('failed');
    expect(mem.raw[0]).not.toContain('0123456789abcdef');
  });
});

describe('withContext', () => {
  it('adds request_id, stage, call_id and clip to every line, skipping undefined', async () => {
    const mem = memory();
    const log = withContext(createLogger({ name: 't', destination: mem.destination }), {
      request_id: 'req-1',
      stage: 'transcode-clip',
      call_id: 'call-9',
      clip: 3,
    });
    withContext(log, { call_id: undefined }).info('working');
    await flush();
    expect(mem.lines[0]).toMatchObject({
      request_id: 'req-1',
      stage: 'transcode-clip',
      call_id: 'call-9',
      clip: 3,
    });
  });
});
