/**
 * The hostile inputs of test/e2e/hostile.test.ts: the cases (each a body, the
 * stable error code it must get, and the request id it may create), the odd
 * answers of the allow-listed source server, and bad media made on the spot.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { ffmpeg } from './media.js';

/** What exists only once the suite runs: the servers' ports and the canary paths. */
export interface Ctx {
  allowedPort: number;
  forbiddenPort: number;
  /** On the allow-list, but nothing listens there (connection refused). */
  deadPort: number;
  canaries: { video: string; text: string };
  /** A valid video the allowed server sends slowly (/slow.mp4). */
  video: Buffer;
}

export interface Case {
  name: string;
  /** The body to POST (objects as JSON, strings as they are). */
  body: (ctx: Ctx) => unknown;
  headers?: Record<string, string>;
  code: string;
  status?: number;
  /** For a refusal by the request schema: the field it must be about. */
  field?: string;
  /** The request id this case may create (its prefix is the only place it may write). */
  id?: string;
}

export const submit = (id: string, extra: Record<string, unknown>) => ({
  video_uri: 'store://uploads/valid-noaudio.mp4',
  query: 'find the car',
  request_id: id,
  ...extra,
});
export const source = (id: string, video_uri: string) => submit(id, { video_uri });

/**
 * The valid requests the suite makes first (hostile.test.ts), one under a
 * request_id and one under an Idempotency-Key: the cases that reuse their id
 * with another body must be refused without touching them.
 */
export const VALID = {
  id: 'h-valid-noaudio',
  key: 'h-valid-idempotency-key',
  body: { video_uri: 'store://uploads/valid-noaudio.mp4', query: 'find the car' },
};
const http = (ctx: Ctx, path: string) => `http://127.0.0.1:${ctx.allowedPort}${path}`;

export function allCases(): Case[] {
  const refused: Case[] = [
    // The body itself.
    { name: 'malformed JSON', body: () => '{"video_uri": "store://x", "query": ', code: 'INVALID_JSON' },
    { name: 'not JSON at all', body: () => 'video_uri=store://x&query=cars', code: 'INVALID_JSON' },
    {
      name: 'JSON nested 200 000 deep',
      body: () => `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
      code: 'INVALID_REQUEST',
    },
    {
      name: 'oversized JSON (11 MiB)',
      body: () => JSON.stringify({ query: 'x'.repeat(11 * 2 ** 20) }),
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
    },
    { name: 'a JSON array', body: () => '[]', code: 'INVALID_REQUEST' },
    { name: 'a JSON string', body: () => '"store://uploads/valid-noaudio.mp4"', code: 'INVALID_REQUEST' },
    { name: 'JSON null', body: () => 'null', code: 'INVALID_REQUEST' },
    { name: 'an empty body', body: () => '', code: 'INVALID_REQUEST' },
    // Wrong types and values.
    {
      name: 'video_uri a number',
      body: () => submit('h-type-uri', { video_uri: 42 }),
      code: 'INVALID_REQUEST',
      field: 'video_uri',
    },
    {
      name: 'query an array',
      body: () => submit('h-type-query', { query: ['cars'] }),
      code: 'INVALID_REQUEST',
      field: 'query',
    },
    {
      name: 'query 600 characters',
      body: () => submit('h-long-query', { query: 'car '.repeat(150) }),
      code: 'INVALID_REQUEST',
      field: 'query',
    },
    {
      name: 'query only blanks',
      body: () => submit('h-blank-query', { query: '   ' }),
      code: 'INVALID_REQUEST',
      field: 'query',
    },
    {
      name: 'an unknown field',
      body: () => submit('h-unknown-field', { priority: 'high' }),
      code: 'INVALID_REQUEST',
    },
    {
      name: 'an unknown profile',
      body: () => submit('h-profile', { profile: 'turbo' }),
      code: 'UNKNOWN_PROFILE',
      field: 'profile',
    },
    {
      name: 'profile "__proto__"',
      body: () => submit('h-profile-proto', { profile: '__proto__' }),
      code: 'UNKNOWN_PROFILE',
      field: 'profile',
    },
    {
      name: 'a huge override (max_clips 1e9)',
      body: () => submit('h-huge', { overrides: { run: { max_clips: 1e9 } } }),
      code: 'INVALID_OVERRIDES',
      field: 'overrides',
    },
    {
      name: 'a negative override',
      body: () => submit('h-negative', { overrides: { segment: { min_clip_s: -1 } } }),
      code: 'INVALID_OVERRIDES',
      field: 'overrides',
    },
    {
      name: 'a negative frame rate (frames.fps -1)',
      body: () => submit('h-negative-fps', { overrides: { frames: { fps: -1 } } }),
      code: 'INVALID_OVERRIDES',
      field: 'overrides',
    },
    {
      name: 'an infinite override (1e999)',
      body: () =>
        `{"video_uri":"store://uploads/valid-noaudio.mp4","query":"cars","request_id":"h-inf","overrides":{"transcode":{"crf":1e999}}}`,
      code: 'INVALID_OVERRIDES',
      field: 'overrides',
    },
    {
      name: 'a zero stage timeout',
      body: () => submit('h-timeout', { overrides: { run: { stage_timeout_s: { 'cut-clips': 0 } } } }),
      code: 'INVALID_OVERRIDES',
      field: 'overrides',
    },
    {
      name: 'an unknown override key',
      body: () => submit('h-override-key', { overrides: { run: { shell: 'rm -rf /' } } }),
      code: 'INVALID_OVERRIDES',
      field: 'overrides',
    },
    {
      name: 'a "__proto__" key in overrides',
      body: () =>
        `{"video_uri":"store://uploads/valid-noaudio.mp4","query":"cars","request_id":"h-proto","overrides":{"__proto__":{"run":{"max_clips":1}}}}`,
      code: 'INVALID_OVERRIDES',
      field: 'overrides',
    },
    {
      name: 'overrides each in bounds but min clip > max clip',
      body: () => submit('h-min-max', { overrides: { segment: { min_clip_s: 50, max_clip_s: 10 } } }),
      code: 'INVALID_OVERRIDES',
    },
    // Path traversal in ids.
    {
      name: 'request_id ../../etc/passwd',
      body: () => submit('../../etc/passwd', {}),
      code: 'INVALID_REQUEST',
      field: 'request_id',
    },
    {
      name: 'request_id with slashes',
      body: () => submit('a/b/c', {}),
      code: 'INVALID_REQUEST',
      field: 'request_id',
    },
    { name: 'request_id ".."', body: () => submit('..', {}), code: 'INVALID_REQUEST', field: 'request_id' },
    {
      name: 'request_id of 65 characters',
      body: () => submit('a'.repeat(65), {}),
      code: 'INVALID_REQUEST',
      field: 'request_id',
    },
    {
      name: 'resume ../outside',
      body: () => ({ resume: '../outside' }),
      code: 'INVALID_REQUEST',
      field: 'resume',
    },
    {
      name: 'cancel with a traversal id',
      body: () => ({ cancel: 'x/../../y' }),
      code: 'INVALID_REQUEST',
      field: 'cancel',
    },
    {
      name: 'status of a request that does not exist',
      body: () => ({ status: 'nobody-here' }),
      code: 'REQUEST_NOT_FOUND',
      status: 404,
    },
    // Searches of the analysed videos: refused before anything is read.
    {
      name: 'a search of 501 characters',
      body: () => ({ search: 'x'.repeat(501) }),
      code: 'INVALID_REQUEST',
      field: 'search',
    },
    {
      name: 'a search whose videos is not a list',
      body: () => ({ search: 'a car', videos: '../../requests' }),
      code: 'INVALID_REQUEST',
      field: 'videos',
    },
    {
      name: 'a search asking for a million answers',
      body: () => ({ search: 'a car', limit: 1e6 }),
      code: 'INVALID_REQUEST',
      field: 'limit',
    },
    {
      name: 'a search of a video nothing analysed',
      body: () => ({ search: 'a car', videos: ['../../etc/passwd'] }),
      code: 'VIDEO_NOT_FOUND',
      status: 404,
    },
    {
      name: 'an Idempotency-Key of 300 characters',
      body: () => submit('h-key-long', {}),
      headers: { 'idempotency-key': 'k'.repeat(300) },
      code: 'INVALID_IDEMPOTENCY_KEY',
    },
    {
      name: 'a non-ASCII Idempotency-Key',
      body: () => submit('h-key-latin', {}),
      headers: { 'idempotency-key': 'cl\u00e9' },
      code: 'INVALID_IDEMPOTENCY_KEY',
    },
    {
      name: 'an unquoted Idempotency-Key with a space (the draft quotes those)',
      body: () => submit('h-key-space', {}),
      headers: { 'idempotency-key': 'order 42' },
      code: 'INVALID_IDEMPOTENCY_KEY',
    },
    {
      name: 'an Idempotency-Key with an unterminated quote',
      body: () => submit('h-key-quote', {}),
      headers: { 'idempotency-key': '"order 42' },
      code: 'INVALID_IDEMPOTENCY_KEY',
    },
    // Ids used again for another request, and ids in the orchestrator's own namespaces.
    ...(
      [
        ['another query', () => ({ query: 'find the dog' })],
        ['another video', () => ({ video_uri: 'store://uploads/wide.mkv' })],
        ['another profile', () => ({ profile: 'fast' })],
        ['overrides', () => ({ overrides: { frames: { fps: 2 } } })],
        ['a callback_url', (ctx: Ctx) => ({ callback_url: http(ctx, '/hook') })],
      ] as const
    ).map(([what, change]) => ({
      name: `a known request_id with ${what}`,
      body: (ctx: Ctx) => submit(VALID.id, change(ctx)),
      code: 'IDEMPOTENCY_KEY_MISMATCH',
    })),
    {
      name: 'a known Idempotency-Key with another query',
      body: () => ({ ...VALID.body, query: 'find the dog' }),
      headers: { 'idempotency-key': VALID.key },
      code: 'IDEMPOTENCY_KEY_MISMATCH',
    },
    {
      name: 'request_id in the Idempotency-Key namespace (k_…)',
      body: () => submit(`k_${createHash('sha256').update(VALID.key).digest('hex').slice(0, 32)}`, {}),
      code: 'INVALID_REQUEST',
      field: 'request_id',
    },
    {
      name: 'request_id in the X-Call-Id namespace, upper case (C_…)',
      body: () => submit('C_0123456789abcdef0123456789abcdef', {}),
      code: 'INVALID_REQUEST',
      field: 'request_id',
    },
    // Callback URLs.
    {
      name: 'callback_url file://',
      body: (ctx) => submit('h-cb-file', { callback_url: `file://${ctx.canaries.text}` }),
      code: 'INVALID_REQUEST',
      field: 'callback_url',
    },
    {
      name: 'callback_url gopher://',
      body: () => submit('h-cb-gopher', { callback_url: 'gopher://127.0.0.1:70/_x' }),
      code: 'INVALID_REQUEST',
      field: 'callback_url',
    },
    {
      name: 'callback_url javascript:',
      body: () => submit('h-cb-js', { callback_url: 'javascript:alert(1)' }),
      code: 'INVALID_REQUEST',
      field: 'callback_url',
    },
    {
      name: 'callback_url to the metadata address',
      body: () => submit('h-cb-meta', { callback_url: 'http://169.254.169.254/hook' }),
      code: 'CALLBACK_URL_REFUSED',
    },
    {
      name: 'callback_url to a loopback port not allowed',
      body: (ctx) => submit('h-cb-loop', { callback_url: `http://127.0.0.1:${ctx.forbiddenPort}/hook` }),
      code: 'CALLBACK_URL_REFUSED',
    },
    // Source schemes and keys.
    {
      name: 'video_uri file:///etc/passwd',
      body: () => source('h-file-etc', 'file:///etc/passwd'),
      code: 'UNSUPPORTED_SOURCE_SCHEME',
    },
    {
      name: 'video_uri file:// to a video outside the bucket',
      body: (ctx) => source('h-file-canary', `file://${ctx.canaries.video}`),
      code: 'UNSUPPORTED_SOURCE_SCHEME',
    },
    {
      name: 'video_uri gopher://',
      body: () => source('h-gopher', 'gopher://127.0.0.1:70/_GET'),
      code: 'UNSUPPORTED_SOURCE_SCHEME',
    },
    {
      name: 'video_uri ftp://',
      body: () => source('h-ftp', 'ftp://ftp.example.org/video.mp4'),
      code: 'UNSUPPORTED_SOURCE_SCHEME',
    },
    {
      name: 'video_uri data:',
      body: () => source('h-data', 'data:video/mp4;base64,AAAA'),
      code: 'UNSUPPORTED_SOURCE_SCHEME',
    },
    {
      name: 'video_uri a bare local path',
      body: (ctx) => source('h-path', ctx.canaries.video),
      code: 'UNSUPPORTED_SOURCE_SCHEME',
    },
    {
      name: 'store:// with ../',
      body: () => source('h-store-dots', 'store://../outside/secret.mp4'),
      code: 'INVALID_SOURCE_KEY',
    },
    {
      name: 'store:// with encoded ../',
      body: () => source('h-store-enc', 'store://uploads/%2e%2e/%2e%2e/outside/secret.mp4'),
      code: 'INVALID_SOURCE_KEY',
    },
    {
      name: 'store:// with an absolute path',
      body: (ctx) => source('h-store-abs', `store://${ctx.canaries.video}`),
      code: 'INVALID_SOURCE_KEY',
    },
    {
      name: "store:// into the store's own folder",
      body: () => source('h-store-internal', 'store://.clipseek/meta/x.json'),
      code: 'INVALID_KEY',
    },
    {
      name: "store:// another namespace's shared results",
      body: () => source('h-store-results', 'store://results/other-tenant/copy-source/0000/source.mp4'),
      code: 'SOURCE_REFUSED',
    },
    {
      name: "store:// another request's input",
      body: () => source('h-store-request', 'store://requests/r_someone/input/source.mp4'),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 's3:// another bucket',
      body: () => source('h-s3-other', 's3://someone-else/video.mp4'),
      code: 'UNSUPPORTED_SOURCE',
    },
    {
      name: 's3:// our bucket with ../',
      body: () => source('h-s3-dots', 's3://bucket/../outside/secret.mp4'),
      code: 'INVALID_SOURCE_KEY',
    },
    {
      name: 'store:// a missing object',
      body: () => source('h-missing', 'store://uploads/missing.mp4'),
      code: 'SOURCE_NOT_FOUND',
      status: 404,
    },
    {
      name: 'a zero-byte video',
      body: () => source('h-zero', 'store://uploads/zero.mp4'),
      code: 'EMPTY_INPUT',
    },
    // Addresses.
    {
      name: 'the metadata address',
      body: () => source('h-meta', 'http://169.254.169.254/latest/meta-data/'),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 'a link-local IPv6 address',
      body: () => source('h-fe80', 'http://[fe80::1]/video.mp4'),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 'metadata.google.internal',
      body: () => source('h-gce', 'http://metadata.google.internal/computeMetadata/v1/'),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 'a private address',
      body: () => source('h-private', 'http://10.1.2.3/video.mp4'),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 'loopback written in hex',
      body: () => source('h-hex', 'http://0x7f000001/video.mp4'),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 'the metadata address as IPv4-mapped IPv6',
      body: () => source('h-mapped', 'http://[::ffff:169.254.169.254]/'),
      code: 'SOURCE_REFUSED',
    },
    ...(
      [
        ['loopback as IPv4-compatible IPv6', 'http://[::127.0.0.1]/video.mp4'],
        ['the metadata address via NAT64', 'http://[64:ff9b::169.254.169.254]/latest/'],
        ['private address via local-use NAT64', 'http://[64:ff9b:1::a00:1]/video.mp4'],
        ['the metadata address via 6to4', 'http://[2002:a9fe:a9fe::1]/latest/'],
        ['a site-local IPv6 address', 'http://[fec0::1]/video.mp4'],
      ] as const
    ).map(([name, uri], i) => ({ name, body: () => source(`h-v6-${i}`, uri), code: 'SOURCE_REFUSED' })),
    {
      name: 'credentials in the URL',
      body: (ctx) => source('h-creds', `http://user:pass@127.0.0.1:${ctx.allowedPort}/text.mp4`),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 'localhost (not on the allow-list)',
      body: (ctx) => source('h-localhost', `http://localhost:${ctx.allowedPort}/text.mp4`),
      code: 'SOURCE_REFUSED',
    },
    {
      name: 'loopback on a port not allowed',
      body: (ctx) => source('h-port', `http://127.0.0.1:${ctx.forbiddenPort}/video.mp4`),
      code: 'SOURCE_REFUSED',
    },
  ];
  // Refused only once the request exists (the source is fetched or read): FAILED with that cause.
  const failed: Case[] = [
    ...(
      [
        ['a redirect to the metadata address', '/to-metadata', 'SOURCE_REFUSED'],
        ['a redirect to file://', '/to-file', 'SOURCE_REFUSED'],
        ['a redirect to gopher://', '/to-gopher', 'SOURCE_REFUSED'],
        ['a redirect to a private address', '/to-private', 'SOURCE_REFUSED'],
        ['a redirect to a loopback port not allowed', '/to-forbidden-port', 'SOURCE_REFUSED'],
        ['a redirect to localhost', '/to-localhost', 'SOURCE_REFUSED'],
        ['a redirect to IPv4-mapped metadata', '/to-mapped-metadata', 'SOURCE_REFUSED'],
        ['a redirect loop', '/loop', 'SOURCE_REFUSED'],
        ['a source answering 404', '/missing', 'SOURCE_FETCH_FAILED'],
        ['a source larger than MAX_SOURCE_BYTES (declared)', '/huge', 'SOURCE_TOO_LARGE'],
        ['a source larger than MAX_SOURCE_BYTES (chunked)', '/huge-chunked', 'SOURCE_TOO_LARGE'],
        ['text served over http as video/mp4', '/text.mp4', 'UNSUPPORTED_FORMAT'],
        ['a gzip bomb (content-encoding: gzip)', '/gzip-bomb', 'UNSUPPORTED_CONTENT_ENCODING'],
        ['a 200 answer with no bytes', '/empty', 'EMPTY_INPUT'],
      ] as const
    ).map(([name, path, code], i) => ({
      name,
      body: (ctx: Ctx) => source(`h-http-${i}`, http(ctx, path)),
      code,
      id: `h-http-${i}`,
    })),
    ...(
      [
        ['an MP4 cut short (index lost)', 'truncated.mp4', 'UNREADABLE_MEDIA'],
        ['an MP4 cut short (faststart)', 'truncated-faststart.mp4', 'UNREADABLE_MEDIA'],
        ['a text file named .mp4', 'notes.mp4', 'UNSUPPORTED_FORMAT'],
        ['random bytes named .mp4', 'noise.mp4', 'UNSUPPORTED_FORMAT'],
        ['a PNG image named .mp4', 'image.mp4', 'UNSUPPORTED_FORMAT'],
        ['an audio-only file', 'audio-only.m4a', 'NO_VIDEO_STREAM'],
        ['an HLS playlist of file:///etc/passwd', 'hls-passwd.mp4', 'UNSUPPORTED_FORMAT'],
        ['an HLS playlist of a video outside the bucket', 'hls-canary.mp4', 'UNSUPPORTED_FORMAT'],
        ['an HLS playlist of the metadata address', 'hls-metadata.mp4', 'UNSUPPORTED_FORMAT'],
        ['a concat list of a video outside the bucket', 'concat-canary.mp4', 'UNSUPPORTED_FORMAT'],
        ['a resolution wider than 8K in the header', 'wide.mkv', 'MEDIA_LIMITS_EXCEEDED'],
        ['a 49-day duration in the header', 'endless.mp4', 'MEDIA_LIMITS_EXCEEDED'],
        ['1000 frames per second in the header', 'fast.mkv', 'MEDIA_LIMITS_EXCEEDED'],
        // What the streams really hold, beyond what the header declares.
        ['a minute of audio behind a header that declares 1 s', 'long-audio.mkv', 'MEDIA_LIMITS_EXCEEDED'],
        ['30 s of video behind a header that declares 2 s', 'understated.mkv', 'MEDIA_LIMITS_EXCEEDED'],
        ['an 8000×8000 frame behind a 64×48 header', 'big-frame.mkv', 'MEDIA_LIMITS_EXCEEDED'],
      ] as const
    ).map(([name, file, code], i) => ({
      name,
      body: () => source(`h-media-${i}`, `store://uploads/${file}`),
      code,
      id: `h-media-${i}`,
    })),
  ];
  return [...refused, ...failed];
}

/** The allow-listed source server: redirects to places a source must not come from, and odd answers. */
export function answerAllowed(ctx: Ctx, url: string, res: ServerResponse): unknown {
  const redirect = (location: string) => res.writeHead(302, { location }).end();
  switch (url) {
    case '/to-metadata':
      return redirect('http://169.254.169.254/latest/meta-data/iam/security-credentials/');
    case '/to-file':
      return redirect(`file://${ctx.canaries.text}`);
    case '/to-gopher':
      return redirect('gopher://127.0.0.1:70/_GET');
    case '/to-private':
      return redirect('http://10.0.0.1/video.mp4');
    case '/to-forbidden-port':
      return redirect(`http://127.0.0.1:${ctx.forbiddenPort}/video.mp4`);
    case '/to-localhost':
      return redirect(`http://localhost:${ctx.allowedPort}/text.mp4`);
    case '/to-mapped-metadata':
      return redirect('http://[::ffff:169.254.169.254]/latest/');
    case '/loop':
      return redirect('/loop');
    case '/huge':
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(2 * 1024 * 1024) });
      return res.end(Buffer.alloc(2 * 1024 * 1024));
    case '/huge-chunked':
      res.writeHead(200, { 'content-type': 'video/mp4' });
      for (let i = 0; i < 40; i++) res.write(Buffer.alloc(64 * 1024));
      return res.end();
    case '/text.mp4':
      res.writeHead(200, { 'content-type': 'video/mp4' });
      return res.end('not a video at all\n');
    case '/gzip-bomb': // 50 KB that decode to 50 MB, past MAX_SOURCE_BYTES (1 MiB) fifty times
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-encoding': 'gzip' });
      return res.end(gzipBomb());
    case '/empty':
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '0' });
      return res.end();
    case '/slow.mp4': // the valid video in 40 pieces, 125 ms apart: about 5 s
      return trickle(res, ctx.video, 40, 125);
    default:
      res.writeHead(404).end('no such thing');
  }
}

let bomb: Buffer | undefined;
function gzipBomb(): Buffer {
  bomb ??= gzipSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 });
  return bomb;
}

function trickle(res: ServerResponse, bytes: Buffer, pieces: number, everyMs: number): void {
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes.length) });
  const size = Math.ceil(bytes.length / pieces);
  let at = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(bytes.subarray(at, at + size));
    at += size;
    if (at < bytes.length) return;
    clearInterval(timer);
    res.end();
  }, everyMs);
}

// ---- media made on the spot ----

/** Seeded bytes that are no container at all. */
export function noiseFile(dir: string): string {
  const path = join(dir, 'noise.mp4');
  const chunks: Buffer[] = [];
  let block = Buffer.from('seed');
  for (let i = 0; i < 256; i++) {
    block = createHash('sha256').update(block).digest();
    chunks.push(block);
  }
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

export async function pngFile(dir: string): Promise<string> {
  const path = join(dir, 'image.mp4');
  await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .png()
    .toFile(path);
  return path;
}

/** A one-second MP4 whose movie header (mvhd) claims 4 294 967 s: about 49.7 days. */
export async function endlessHeaderMp4(dir: string): Promise<string> {
  const path = join(dir, 'endless.mp4');
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=64x48:r=10:d=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-f',
    'mp4',
    path,
  ]);
  const bytes = readFileSync(path);
  const mvhd = bytes.indexOf('mvhd');
  if (mvhd < 0 || bytes[mvhd + 4] !== 0) throw new Error('expected a version 0 mvhd box');
  // type(4) version+flags(4) creation(4) modification(4) timescale(4) duration(4)
  bytes.writeUInt32BE(0xffffff00, mvhd + 4 + 4 + 4 + 4 + 4);
  writeFileSync(path, bytes);
  return path;
}

/** A tiny Matroska video at 1000 frames per second (the service accepts up to 240). */
export async function thousandFpsMkv(dir: string): Promise<string> {
  const path = join(dir, 'fast.mkv');
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=64x48:r=1000:d=0.05',
    '-c:v',
    'mjpeg',
    '-f',
    'matroska',
    path,
  ]);
  return path;
}

// ---- media that holds more than its header says (checked against what the streams hold) ----

/** Rewrites the Duration a Matroska file declares (Segment Info element 0x4489: an 8-byte float, in ms). */
export function declareMatroskaDuration(path: string, seconds: number): void {
  const bytes = readFileSync(path);
  const head = bytes.subarray(0, 4096);
  // TimestampScale 1 000 000 ns: Duration counts milliseconds.
  if (head.indexOf(Buffer.from([0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40])) < 0)
    throw new Error('expected a TimestampScale of 1 ms');
  const at = head.indexOf(Buffer.from([0x44, 0x89, 0x88]));
  if (at < 0) throw new Error('expected an 8-byte Duration element');
  bytes.writeDoubleBE(seconds * 1000, at + 3);
  writeFileSync(path, bytes);
}

/**
 * 2×2 H.264 at 240 fps, `seconds` long (one second encoded, then copied over
 * and over): 240 packets a second in a few bytes each. With `declaredS`, its
 * header says it lasts that long.
 */
export async function manyPacketsMkv(
  dir: string,
  name: string,
  seconds: number,
  declaredS?: number,
): Promise<string> {
  const second = join(dir, `${name}.1s.mkv`);
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=black:s=2x2:r=240:d=1'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '240', '-f', 'matroska', second],
  ]);
  const path = join(dir, name);
  await ffmpeg(['-stream_loop', String(seconds - 1), '-i', second, '-c', 'copy', '-f', 'matroska', path]);
  if (declaredS !== undefined) declareMatroskaDuration(path, declaredS);
  return path;
}

/** One second of video and a minute of 8 kHz AAC, in a Matroska file that declares one second. */
export async function longAudioShortHeaderMkv(dir: string): Promise<string> {
  const path = join(dir, 'long-audio.mkv');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=1', '-f', 'lavfi', '-i', 'sine=f=300:r=8000:d=60'],
    ...['-c:v', 'mjpeg', '-c:a', 'aac', '-f', 'matroska', path],
  ]);
  declareMatroskaDuration(path, 1);
  return path;
}

/** Side of the big frame: 8000×8000 is 64 Mpx, about twice an 8K frame (33 Mpx). */
const BIG_FRAME_SIDE = 8000;

/**
 * MJPEG in Matroska at 2 fps, six 64×48 frames and one of 8000×8000, whose
 * header says 64×48. `middle`: the big frame is the fourth (the header is the
 * first frame's size, as ffmpeg writes it). `first`: it comes first, and the
 * header's PixelWidth/PixelHeight are rewritten to still say 64×48.
 */
export async function oversizedFrameMkv(dir: string, position: 'first' | 'middle'): Promise<string> {
  const small = join(dir, 'small.mjpeg');
  const big = join(dir, 'big.mjpeg');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=2:d=1.5', '-c:v', 'mjpeg', '-f', 'mjpeg', small]);
  const side = BIG_FRAME_SIDE;
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `color=gray:s=${side}x${side}:d=1`, '-frames:v', '1'],
    ...['-c:v', 'mjpeg', '-q:v', '31', '-f', 'mjpeg', big],
  ]);
  const frames = [readFileSync(small), readFileSync(big), readFileSync(small)];
  const stream = join(dir, `frames-${position}.mjpeg`);
  writeFileSync(stream, Buffer.concat(position === 'first' ? [frames[1]!, frames[0]!, frames[2]!] : frames));
  const path = join(dir, `big-frame-${position}.mkv`);
  await ffmpeg(['-f', 'mjpeg', '-framerate', '2', '-i', stream, '-c', 'copy', '-f', 'matroska', path]);
  if (position === 'first') {
    const bytes = readFileSync(path);
    // PixelWidth (0xB0) and PixelHeight (0xBA), each a 2-byte unsigned integer.
    for (const [id, value] of [
      [0xb0, 64],
      [0xba, 48],
    ] as const) {
      const at = bytes.indexOf(Buffer.from([id, 0x82, side >> 8, side & 0xff]));
      if (at < 0) throw new Error(`expected element 0x${id.toString(16)} = ${side}`);
      bytes.writeUInt16BE(value, at + 2);
    }
    writeFileSync(path, bytes);
  }
  return path;
}
