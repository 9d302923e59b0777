import { InputError } from '../../common/errors.js';

export interface WavInfo {
  /** 1 = integer PCM, 3 = float (WAVE_FORMAT_EXTENSIBLE resolved to its sub-format). */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes of sample data in the `data` chunk. */
  dataBytes: number;
  durationS: number;
}

const EXTENSIBLE = 0xfffe;

/** Reads a RIFF/WAVE header, walking its chunks (ffmpeg adds a LIST chunk before `data`). */
export function readWavInfo(bytes: Buffer): WavInfo {
  const bad = (why: string) => new InputError('UNSUPPORTED_AUDIO', `audio is not a usable WAV file: ${why}`);
  if (
    bytes.length < 12 ||
    bytes.toString('ascii', 0, 4) !== 'RIFF' ||
    bytes.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    throw bad('no RIFF/WAVE header');
  }
  let fmt: Omit<WavInfo, 'dataBytes' | 'durationS'> | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw bad('short fmt chunk');
      let format = bytes.readUInt16LE(body);
      if (format === EXTENSIBLE && size >= 26 && body + 26 <= bytes.length)
        format = bytes.readUInt16LE(body + 24);
      fmt = {
        format,
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        bitsPerSample: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw bad('data before fmt');
      // Streamed WAVs may leave the size unset (0 or 0xFFFFFFFF): the rest of the file is the data.
      const available = bytes.length - body;
      const dataBytes = size === 0 || size > available ? available : size;
      const bytesPerSecond = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8);
      return { ...fmt, dataBytes, durationS: bytesPerSecond > 0 ? dataBytes / bytesPerSecond : 0 };
    }
    at = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw bad('no data chunk');
}

/** The format every engine here is given: 16 kHz, mono, 16-bit integer PCM (what transcode-clip writes). */
export function assertSpeechWav(info: WavInfo): void {
  const ok =
    info.format === 1 && info.channels === 1 && info.sampleRate === 16_000 && info.bitsPerSample === 16;
  if (!ok) {
    throw new InputError('UNSUPPORTED_AUDIO', 'audio must be 16 kHz mono 16-bit PCM WAV', {
      details: {
        format: info.format,
        channels: info.channels,
        sample_rate: info.sampleRate,
        bits_per_sample: info.bitsPerSample,
      },
    });
  }
}
