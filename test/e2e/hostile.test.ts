/**
 * Hostile inputs through the real gateway, the real orchestrator and the real
 * extract-audio (the later stages are fakes: no case gets that far except the
 * one valid input). Every case must
 *   - be answered with a 4xx and a stable error code,
 *   - write nothing outside its own request prefix (requests/<id>/… and its
 *     index/ entries; nothing at all when refused before the request exists),
 *   - read no file outside the bucket: canary files next to the bucket (one a
 *     real video, so a successful read would show as a success) keep their
 *     access time, and their content appears in no answer and no object.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGE_NAMES } from '../../common/contracts/stages.js';
import { indexKeys, requestKeys } from '../../common/keys.js';
import {
  audioOnlyFile,
  concatList,
  ffmpeg,
  hlsPlaylist,
  oversizedVideo,
  textAsMp4,
  truncatedMp4,
  videoWithoutAudio,
  zeroByteFile,
} from '../helpers/media.js';
import { type Stack, startStack } from '../helpers/stack-harness.js';

const TOKEN = `canary-${createHash('sha256').update('hostile').digest('hex').slice(0, 16)}`;
const LONG_AGO = new Date('2001-01-01T00:00:00Z');

let stack: Stack;
let allowed: Server; // on SOURCE_ALLOWED_HOSTS: serves redirects and odd answers
let forbidden: Server; // loopback on a port that is NOT allowed: must never be reached
let forbiddenHits = 0;
/** Filled in by beforeAll. */
const ctx: Ctx = { allowedPort: 0, forbiddenPort: 0, canaries: { video: '', text: '' } };
const valid: { id?: string } = {};

beforeAll(async () => {
  forbidden = createServer((_req, res) => {
    forbiddenHits += 1;
    res.end(TOKEN);
  });
  forbidden.listen(0, '127.0.0.1');
  await once(forbidden, 'listening');
  ctx.forbiddenPort = (forbidden.address() as AddressInfo).port;
  allowed = createServer((req, res) => answerAllowed(req.url ?? '/', res));
  allowed.listen(0, '127.0.0.1');
  await once(allowed, 'listening');
  ctx.allowedPort = (allowed.address() as AddressInfo).port;

  stack = await startStack({
    only: ['orchestrator', ...STAGE_NAMES],
    fakeStages: STAGE_NAMES.filter((s) => s !== 'extract-audio'),
    env: {
      SOURCE_ALLOWED_HOSTS: `127.0.0.1:${ctx.allowedPort}`,
      CALLBACK_SIGNING_KEY: 'hostile-suite-signing-key',
      MAX_SOURCE_BYTES: String(1024 * 1024),
      SOURCE_TIMEOUT_S: '10',
    },
  });

  // Canaries next to the bucket, one of them a real (valid) video.
  const outside = join(stack.dir, 'outside');
  mkdirSync(outside);
  ctx.canaries = { video: join(outside, 'secret.mp4'), text: join(outside, 'passwd') };
  await copyFile(await videoWithoutAudio(), ctx.canaries.video);
  writeFileSync(ctx.canaries.text, `root:x:0:0:${TOKEN}\n`);

  const files = join(stack.dir, 'files');
  mkdirSync(files);
  const uploads: Record<string, string> = {
    'valid-noaudio.mp4': await videoWithoutAudio(),
    'zero.mp4': await zeroByteFile(files),
    'truncated.mp4': await truncatedMp4(files, 'default'),
    'truncated-faststart.mp4': await truncatedMp4(files, 'faststart'),
    'notes.mp4': await textAsMp4(files),
    'noise.mp4': noiseFile(files),
    'image.mp4': await pngFile(files),
    'audio-only.m4a': await audioOnlyFile(),
    'hls-passwd.mp4': await hlsPlaylist(files, 'file:///etc/passwd', 'hls-passwd.mp4'),
    'hls-canary.mp4': await hlsPlaylist(files, ctx.canaries.video, 'hls-canary.mp4'),
    'hls-metadata.mp4': await hlsPlaylist(files, 'http://169.254.169.254/latest/meta-data/', 'hls-meta.mp4'),
    'concat-canary.mp4': await concatList(files, ctx.canaries.video, 'concat-canary.mp4'),
    'wide.mkv': await oversizedVideo(),
    'endless.mp4': await endlessHeaderMp4(files),
    'fast.mkv': await thousandFpsMkv(files),
  };
  for (const [name, path] of Object.entries(uploads))
    await stack.store.put(`uploads/${name}`, readFileSync(path));
  // Any read from now on moves the access time forward (relatime: atime older than mtime).
  for (const path of Object.values(ctx.canaries)) utimesSync(path, LONG_AGO, statSync(path).mtime);
});

afterAll(async () => {
  await stack?.close();
  allowed?.close();
  forbidden?.close();
});

function answerAllowed(url: string, res: ServerResponse): unknown {
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
    default:
      res.writeHead(404).end('no such thing');
  }
}

/** What exists only once the suite runs: the servers' ports and the canary paths. */
interface Ctx {
  allowedPort: number;
  forbiddenPort: number;
  canaries: { video: string; text: string };
}

interface Case {
  name: string;
  /** The body to POST (objects as JSON, strings as they are). */
  body: (ctx: Ctx) => unknown;
  headers?: Record<string, string>;
  code: string;
  status?: number;
  /** For INVALID_REQUEST: the field the refusal must be about. */
  field?: string;
  /** The request id this case may create (its prefix is the only place it may write). */
  id?: string;
}

const submit = (id: string, extra: Record<string, unknown>) => ({
  video_uri: 'store://uploads/valid-noaudio.mp4',
  query: 'find the car',
  request_id: id,
  ...extra,
});
const source = (id: string, video_uri: string) => submit(id, { video_uri });
const http = (ctx: Ctx, path: string) => `http://127.0.0.1:${ctx.allowedPort}${path}`;

function allCases(): Case[] {
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
      code: 'INVALID_REQUEST',
      field: 'profile',
    },
    {
      name: 'profile "__proto__"',
      body: () => submit('h-profile-proto', { profile: '__proto__' }),
      code: 'INVALID_REQUEST',
      field: 'profile',
    },
    {
      name: 'a huge override (max_clips 1e9)',
      body: () => submit('h-huge', { overrides: { run: { max_clips: 1e9 } } }),
      code: 'INVALID_REQUEST',
      field: 'overrides',
    },
    {
      name: 'a negative override',
      body: () => submit('h-negative', { overrides: { segment: { min_clip_s: -1 } } }),
      code: 'INVALID_REQUEST',
      field: 'overrides',
    },
    {
      name: 'an infinite override (1e999)',
      body: () =>
        `{"video_uri":"store://uploads/valid-noaudio.mp4","query":"cars","request_id":"h-inf","overrides":{"transcode":{"crf":1e999}}}`,
      code: 'INVALID_REQUEST',
      field: 'overrides',
    },
    {
      name: 'a zero stage timeout',
      body: () => submit('h-timeout', { overrides: { run: { stage_timeout_s: { 'cut-clips': 0 } } } }),
      code: 'INVALID_REQUEST',
      field: 'overrides',
    },
    {
      name: 'an unknown override key',
      body: () => submit('h-override-key', { overrides: { run: { shell: 'rm -rf /' } } }),
      code: 'INVALID_REQUEST',
      field: 'overrides',
    },
    {
      name: 'a "__proto__" key in overrides',
      body: () =>
        `{"video_uri":"store://uploads/valid-noaudio.mp4","query":"cars","request_id":"h-proto","overrides":{"__proto__":{"run":{"max_clips":1}}}}`,
      code: 'INVALID_REQUEST',
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

interface ErrorAnswer {
  error?: { code?: string; details?: { issues?: Array<{ path?: unknown[] }> } };
}

/** The top-level fields a validation error names. */
function issueFields(body: ErrorAnswer | undefined): unknown[] {
  return (body?.error?.details?.issues ?? []).map((issue) => issue.path?.[0]);
}

/** Keys added, changed or removed between two listings. */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

function ownedBy(key: string, id: string | undefined): boolean {
  if (id === undefined) return false;
  return (
    key.startsWith(requestKeys(id).prefix) || key === indexKeys.request(id) || key === indexKeys.active(id)
  );
}

function canaryAccessTimes(): number[] {
  return Object.values(ctx.canaries).map((path) => statSync(path).atimeMs);
}

describe('a valid input the suite builds on', () => {
  it('a video with no audio track is VALID: it succeeds (a silent track stands in), writing only its own prefix', async () => {
    const before = await stack.listing();
    const res = await stack.submit<{ status?: string; clips?: number }>(submit('h-valid-noaudio', {}));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('SUCCEEDED');
    for (const key of changes(before, await stack.listing()))
      expect(ownedBy(key, 'h-valid-noaudio')).toBe(true);
    valid.id = 'h-valid-noaudio';
  });
});

describe('hostile inputs', () => {
  const cases = allCases();
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('$name → $code', async (c) => {
    const atimes = canaryAccessTimes();
    const before = await stack.listing();
    const res = await stack.submit<ErrorAnswer>(c.body(ctx), c.headers);
    const after = await stack.listing();

    expect({ status: res.status, code: res.body?.error?.code }).toEqual({
      status: c.status ?? 422,
      code: c.code,
    });
    if (c.field) expect(issueFields(res.body)).toContain(c.field);
    const changed = changes(before, after);
    for (const key of changed) expect({ key, owned: ownedBy(key, c.id) }).toEqual({ key, owned: true });
    if (c.id && after.has(requestKeys(c.id).state)) {
      // The request exists: it must be FAILED with this very cause, and no longer active.
      const state = await stack.state(c.id);
      expect({ status: state.status, code: state.error?.code, lease: state.lease }).toEqual({
        status: 'FAILED',
        code: c.code,
        lease: null,
      });
      expect(after.has(indexKeys.active(c.id))).toBe(false);
      for (const key of changed) expect((await stack.store.getBytes(key)).includes(TOKEN)).toBe(false);
    }
    expect(JSON.stringify(res.body ?? '')).not.toContain(TOKEN);
    expect(canaryAccessTimes()).toEqual(atimes);
  });

  it('never reached the loopback port that is not allowed, nor read the canaries', () => {
    expect(forbiddenHits).toBe(0);
    expect(canaryAccessTimes()).toEqual(Object.values(ctx.canaries).map(() => LONG_AGO.getTime()));
  });

  it("reads another request's files as a video only to refuse them, leaking nothing", async () => {
    const atimes = canaryAccessTimes();
    const res = await stack.submit<{ error?: { code?: string } }>(
      source('h-other-state', `store://${requestKeys(valid.id ?? 'h-valid-noaudio').state}`),
    );
    expect(res.status).toBe(422);
    expect(res.body.error?.code).toBe('UNSUPPORTED_FORMAT');
    expect(JSON.stringify(res.body)).not.toContain('"schema_version"');
    expect(canaryAccessTimes()).toEqual(atimes);
  });
});

// ---- media made on the spot ----

/** Seeded bytes that are no container at all. */
function noiseFile(dir: string): string {
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

async function pngFile(dir: string): Promise<string> {
  const path = join(dir, 'image.mp4');
  await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .png()
    .toFile(path);
  return path;
}

/** A one-second MP4 whose movie header (mvhd) claims 4 294 967 s: about 49.7 days. */
async function endlessHeaderMp4(dir: string): Promise<string> {
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
async function thousandFpsMkv(dir: string): Promise<string> {
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
