/** common/audio/wav.ts: the one RIFF/WAVE parser (transcribe-clip's header check, segment-speech's stream). */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { assertPcm16Mono, parseWavHeader, readPcm16Mono, readWavInfo } from '../../common/audio/wav.js';
import { InputError } from '../../common/errors.js';
import { pcm16MonoWav } from '../helpers/media.js';
import { silentPcmWav as wav } from '../helpers/wav.js';

/** The bytes in chunks of `size`, as a stream would deliver them. */
function chunks(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

async function readAll(bytes: Buffer, chunkSize: number) {
  const samples: number[] = [];
  const format = await readPcm16Mono(chunks(bytes, chunkSize), (s) => samples.push(...s));
  return { format, samples };
}

describe('readPcm16Mono', () => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321]);

  it('returns every sample and the format, whatever the chunking', async () => {
    const wav = pcm16MonoWav(samples, 16_000);
    for (const size of [1, 3, 7, 64, 100_000]) {
      const out = await readAll(wav, size);
      expect(out.samples).toEqual([...samples]);
      expect(out.format).toEqual({ sampleRate: 16_000, channels: 1, bitsPerSample: 16 });
    }
  });

  it('skips other chunks (LIST, odd-sized) before the data', async () => {
    const wav = pcm16MonoWav(samples, 16_000, { id: 'LIST', body: Buffer.from('INFOxyz') });
    expect((await readAll(wav, 5)).samples).toEqual([...samples]);
  });

  it('reads to the end when the data size was never filled in', async () => {
    const wav = pcm16MonoWav(samples, 16_000);
    wav.writeUInt32LE(0xffffffff, wav.indexOf('data') + 4);
    expect((await readAll(wav, 4)).samples).toEqual([...samples]);
  });

  it('stops at the declared data size (trailing chunks are not samples)', async () => {
    const wav = Buffer.concat([pcm16MonoWav(samples, 16_000), Buffer.from('junk', 'latin1')]);
    expect((await readAll(wav, 2)).samples).toEqual([...samples]);
  });

  it('refuses anything but 16-bit PCM mono as UNSUPPORTED_AUDIO_FORMAT', async () => {
    const stereo = pcm16MonoWav(samples);
    stereo.writeUInt16LE(2, stereo.indexOf('fmt ') + 8 + 2);
    const float = pcm16MonoWav(samples);
    float.writeUInt16LE(3, float.indexOf('fmt ') + 8);
    for (const bad of [
      stereo,
      float,
      Buffer.from('not a wav file at all'),
      pcm16MonoWav(samples).subarray(0, 30),
    ]) {
      await expect(readAll(bad, 16)).rejects.toBeInstanceOf(InputError);
      await expect(readAll(bad, 16)).rejects.toMatchObject({ code: 'UNSUPPORTED_AUDIO_FORMAT' });
    }
  });

  it('drops the odd last byte of an odd-sized data chunk', async () => {
    const wav = Buffer.concat([pcm16MonoWav(samples, 16_000), Buffer.from([0x7f, 0x00, 0x11])]);
    wav.writeUInt32LE(samples.length * 2 + 1, wav.indexOf('data') + 4);
    expect((await readAll(wav, 3)).samples).toEqual([...samples]);
  });
});

describe('readWavInfo and assertPcm16Mono (WAV header)', () => {
  it('reads format and duration, walking past extra chunks', () => {
    expect(readWavInfo(wav({ seconds: 2.5, list: true }))).toEqual({
      format: 1,
      channels: 1,
      sampleRate: 16_000,
      bitsPerSample: 16,
      dataBytes: 80_000,
      durationS: 2.5,
    });
  });

  it('takes the rest of the file as data when the data size was never filled in', () => {
    const bytes = wav({ seconds: 0.5 });
    bytes.writeUInt32LE(0xffffffff, bytes.indexOf('data') + 4);
    expect(readWavInfo(bytes)).toMatchObject({ dataBytes: 16_000, durationS: 0.5 });
  });

  it('resolves WAVE_FORMAT_EXTENSIBLE to its sub-format', () => {
    const header = Buffer.alloc(12 + 8 + 40 + 8);
    header.write('RIFF', 0, 'latin1');
    header.write('WAVE', 8, 'latin1');
    header.write('fmt ', 12, 'latin1');
    header.writeUInt32LE(40, 16);
    header.writeUInt16LE(0xfffe, 20);
    header.writeUInt16LE(1, 22); // mono
    header.writeUInt32LE(16_000, 24);
    header.writeUInt16LE(16, 34);
    header.writeUInt16LE(1, 20 + 24); // sub-format: PCM
    header.write('data', 60, 'latin1');
    expect(readWavInfo(header)).toMatchObject({ format: 1, channels: 1, sampleRate: 16_000, dataBytes: 0 });
  });

  it('asks for more bytes while the header is incomplete', () => {
    const bytes = wav({ list: true });
    const dataStart = bytes.indexOf('data') + 8;
    for (const cut of [0, 11, 12, 30, dataStart - 1])
      expect(parseWavHeader(bytes.subarray(0, cut))).toBe(undefined);
    expect(parseWavHeader(bytes.subarray(0, dataStart))).toMatchObject({
      dataStart,
      declaredDataBytes: 32_000,
    });
  });

  it.each([
    ['8 kHz', { rate: 8000 }],
    ['stereo', { channels: 2 }],
    ['32-bit', { bits: 32 }],
  ])('rejects %s audio with UNSUPPORTED_AUDIO_FORMAT', (_, options) => {
    const check = () => assertPcm16Mono(readWavInfo(wav(options)), 16_000);
    expect(check).toThrow(InputError);
    expect(check).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_AUDIO_FORMAT', retryable: false }));
  });

  it('accepts any positive rate when none is asked for', () => {
    expect(() => assertPcm16Mono(readWavInfo(wav({ rate: 8000 })))).not.toThrow();
  });

  it('rejects bytes that are not a WAV file', () => {
    expect(() => readWavInfo(Buffer.from('ID3 not a wav file at all'))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_AUDIO_FORMAT' }),
    );
  });
});
