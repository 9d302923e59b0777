import { describe, expect, it } from 'vitest';
import { InternalError } from '../../common/errors.js';
import {
  ALLOWED_INPUT_FORMATS,
  FILE_INPUT_RESTRICTIONS,
  fileInputOptions,
  restrictInputs,
} from '../../common/ffmpeg/inputs.js';
import { sniffContainer } from '../../common/ffmpeg/sniff.js';

const LIMITS = { maxPixels: 7680 * 4320 };
const OPTIONS = fileInputOptions(LIMITS);

describe('restrictInputs', () => {
  it('puts the protocol and demuxer allow-lists and the frame size limit right before every file input', () => {
    const out = restrictInputs(
      ['-ss', '3', '-i', '/tmp/a.mp4', '-i', '/tmp/b.mkv', '-c', 'copy', '/tmp/out.mkv'],
      LIMITS,
    );
    expect(out).toEqual([
      '-ss',
      '3',
      ...OPTIONS,
      '-i',
      '/tmp/a.mp4',
      ...OPTIONS,
      '-i',
      '/tmp/b.mkv',
      '-c',
      'copy',
      '/tmp/out.mkv',
    ]);
    expect(FILE_INPUT_RESTRICTIONS).toEqual([
      '-protocol_whitelist',
      'file',
      '-format_whitelist',
      expect.any(String),
    ]);
    expect(OPTIONS).toEqual([...FILE_INPUT_RESTRICTIONS, '-max_pixels', '33177600']);
  });

  it('wins over a caller trying to loosen them (the last value before -i counts)', () => {
    const out = restrictInputs(
      ['-protocol_whitelist', 'file,http,tcp', '-max_pixels', '1e12', '-i', '/tmp/a.mp4', '/tmp/o.wav'],
      LIMITS,
    );
    const iAt = out.indexOf('-i');
    expect(out.slice(iAt - OPTIONS.length, iAt)).toEqual(OPTIONS);
  });

  it('leaves our own lavfi sources alone', () => {
    const args = ['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '1', '/tmp/o.wav'];
    expect(restrictInputs(args, LIMITS)).toEqual(args);
  });

  it('refuses URLs and relative paths as inputs', () => {
    for (const input of ['http://example.org/v.mp4', 'file:/etc/passwd', 'relative.mp4', 'concat:/a|/b']) {
      expect(() => restrictInputs(['-i', input, '/tmp/o.wav'], LIMITS)).toThrow(InternalError);
    }
    expect(() => restrictInputs(['-i'], LIMITS)).toThrow(InternalError);
  });

  it('allows no demuxer that follows references to other files', () => {
    for (const demuxer of ['hls', 'applehttp', 'concat', 'dash', 'image2', 'tee', 'lavfi', 'data']) {
      expect(ALLOWED_INPUT_FORMATS as readonly string[]).not.toContain(demuxer);
    }
  });
});

describe('sniffContainer', () => {
  const bytes = (...parts: Array<string | number[]>) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

  it('recognises the containers we accept', () => {
    expect(sniffContainer(bytes([0, 0, 0, 0x20], 'ftypisom'))).toBe('mp4');
    expect(sniffContainer(bytes([0, 0, 0, 8], 'wide'))).toBe('mp4');
    expect(sniffContainer(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x01]))).toBe('matroska');
    expect(sniffContainer(bytes('RIFF', [1, 2, 3, 4], 'AVI LIST'))).toBe('avi');
    expect(sniffContainer(bytes('RIFF', [1, 2, 3, 4], 'WAVEfmt '))).toBe('wav');
    expect(sniffContainer(bytes('FLV', [1, 5]))).toBe('flv');
    expect(sniffContainer(bytes('OggS', [0]))).toBe('ogg');
    expect(sniffContainer(bytes('fLaC'))).toBe('flac');
    expect(sniffContainer(bytes([0, 0, 1, 0xba, 0x44]))).toBe('mpeg-ps');
    expect(sniffContainer(bytes('ID3', [4, 0]))).toBe('mp3');
    expect(sniffContainer(bytes([0xff, 0xfb, 0x90]))).toBe('mp3');
    expect(sniffContainer(bytes([0xff, 0xf1, 0x50]))).toBe('aac');
    expect(sniffContainer(Buffer.from('3026b2758e66cf11a6d900aa0062ce6c00', 'hex'))).toBe('asf');
  });

  it('recognises MPEG-TS by its sync bytes (188- and 192-byte packets)', () => {
    const ts = Buffer.alloc(188 * 3);
    for (let i = 0; i < 3; i++) ts[i * 188] = 0x47;
    expect(sniffContainer(ts)).toBe('mpegts');
    const m2ts = Buffer.alloc(192 * 3);
    for (let i = 0; i < 3; i++) m2ts[4 + i * 192] = 0x47;
    expect(sniffContainer(m2ts)).toBe('mpegts');
    ts[188] = 0;
    expect(sniffContainer(ts)).toBeUndefined();
  });

  it('recognises nothing in playlists, text, images or empty input', () => {
    expect(sniffContainer(bytes('#EXTM3U\n#EXT-X-VERSION:3\n'))).toBeUndefined();
    expect(sniffContainer(bytes("ffconcat version 1.0\nfile '/etc/passwd'\n"))).toBeUndefined();
    expect(sniffContainer(bytes('<?xml version="1.0"?><MPD>'))).toBeUndefined();
    expect(sniffContainer(bytes('These are meeting notes.'))).toBeUndefined();
    expect(sniffContainer(bytes([0x89], 'PNG\r\n'))).toBeUndefined();
    expect(sniffContainer(bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '))).toBeUndefined();
    expect(sniffContainer(Buffer.alloc(0))).toBeUndefined();
  });
});
