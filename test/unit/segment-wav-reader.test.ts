import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors.js';
import { readPcm16Mono } from '../../functions/segment-speech/wav-reader.js';
import { pcm16MonoWav } from '../helpers/media.js';

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
});
