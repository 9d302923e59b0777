import { InputError } from '../errors.js';

/**
 * RIFF/WAVE parsing for the stages that read the WAVs ffmpeg writes
 * (segment-speech streams a whole-video WAV, transcribe-clip checks a clip's).
 * Everything that is not a usable WAV is one error: InputError
 * UNSUPPORTED_AUDIO_FORMAT (422, not retryable).
 */
export const UNSUPPORTED_AUDIO_FORMAT = 'UNSUPPORTED_AUDIO_FORMAT';

/** The `fmt ` chunk. */
export interface WavFormat {
  /** 1 = integer PCM, 3 = float (WAVE_FORMAT_EXTENSIBLE resolved to its sub-format). */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

export interface WavInfo extends WavFormat {
  /** Bytes of sample data in the `data` chunk. */
  dataBytes: number;
  durationS: number;
}

/** What the streaming reader reports: the format of 16-bit PCM mono samples. */
export interface Pcm16Format {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** Where the samples start, found by walking the chunks before `data`. */
export interface WavHeader {
  format: WavFormat;
  /** Offset of the first sample byte from the start of the file. */
  dataStart: number;
  /** The `data` chunk's declared size; undefined when the writer left it unset (read to the end). */
  declaredDataBytes: number | undefined;
}

const PCM = 1;
const EXTENSIBLE = 0xfffe;
/** ffmpeg writes this (or 0) as the data size when it could not seek back to fix it. */
const UNKNOWN_SIZE = 0xffffffff;

function unsupportedAudio(message: string, details: Record<string, unknown> = {}): InputError {
  return new InputError(UNSUPPORTED_AUDIO_FORMAT, message, { details });
}

/**
 * Walks the RIFF chunks at the start of a WAV file (`fmt `, and others such
 * as the LIST chunk ffmpeg adds) up to the start of `data`. Returns undefined
 * when `head` ends before that (a stream reader then waits for more bytes);
 * throws UNSUPPORTED_AUDIO_FORMAT for what can never become a WAV.
 */
export function parseWavHeader(head: Buffer): WavHeader | undefined {
  if (head.length < 12) return undefined;
  if (head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') {
    throw unsupportedAudio('audio is not a RIFF/WAVE file');
  }
  let format: WavFormat | undefined;
  for (let at = 12; at + 8 <= head.length; ) {
    const id = head.toString('latin1', at, at + 4);
    const size = head.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'data') {
      if (!format) throw unsupportedAudio('WAV data before its fmt chunk');
      const unknown = size === 0 || size === UNKNOWN_SIZE;
      return { format, dataStart: body, declaredDataBytes: unknown ? undefined : size };
    }
    const next = body + size + (size % 2); // RIFF chunks are word-aligned
    if (next > head.length) return undefined; // wait for the whole chunk
    if (id === 'fmt ') format = parseFmtChunk(head.subarray(body, body + size));
    at = next;
  }
  return undefined;
}

function parseFmtChunk(fmt: Buffer): WavFormat {
  if (fmt.length < 16) throw unsupportedAudio('WAV fmt chunk too short');
  const tag = fmt.readUInt16LE(0);
  return {
    format: tag === EXTENSIBLE && fmt.length >= 26 ? fmt.readUInt16LE(24) : tag,
    channels: fmt.readUInt16LE(2),
    sampleRate: fmt.readUInt32LE(4),
    bitsPerSample: fmt.readUInt16LE(14),
  };
}

/** The format and length of a whole WAV file held in memory. */
export function readWavInfo(bytes: Buffer): WavInfo {
  const header = parseWavHeader(bytes);
  if (!header) throw unsupportedAudio('WAV file ends before its sample data');
  const { format, dataStart, declaredDataBytes } = header;
  const available = bytes.length - dataStart;
  const dataBytes =
    declaredDataBytes === undefined || declaredDataBytes > available ? available : declaredDataBytes;
  const bytesPerSecond = format.sampleRate * format.channels * (format.bitsPerSample / 8);
  return { ...format, dataBytes, durationS: bytesPerSecond > 0 ? dataBytes / bytesPerSecond : 0 };
}

/**
 * Throws UNSUPPORTED_AUDIO_FORMAT unless the audio is 16-bit integer PCM,
 * mono, and (when given) at `sampleRate` — what extract-audio and
 * transcode-clip write.
 */
export function assertPcm16Mono(format: WavFormat, sampleRate?: number): void {
  const ok =
    format.format === PCM &&
    format.channels === 1 &&
    format.bitsPerSample === 16 &&
    format.sampleRate > 0 &&
    (sampleRate === undefined || format.sampleRate === sampleRate);
  if (!ok) {
    const rate = sampleRate === undefined ? '' : `${sampleRate / 1000} kHz `;
    throw unsupportedAudio(`audio must be ${rate}mono 16-bit PCM WAV`, {
      format: format.format,
      channels: format.channels,
      sample_rate: format.sampleRate,
      bits_per_sample: format.bitsPerSample,
    });
  }
}

/**
 * Streams a 16-bit PCM mono WAV: parses the RIFF header, then hands the
 * samples to `onSamples` chunk by chunk (the file is never held in memory);
 * every call gets the format too. Stops at the declared data size (trailing
 * chunks are not samples), or reads to the end when it was never filled in.
 * Anything else (float, stereo, compressed) is UNSUPPORTED_AUDIO_FORMAT.
 */
export async function readPcm16Mono(
  source: AsyncIterable<Uint8Array>,
  onSamples: (samples: Int16Array, format: Pcm16Format) => void,
): Promise<Pcm16Format> {
  let buffered = Buffer.alloc(0);
  let format: Pcm16Format | undefined;
  let dataLeft = 0; // bytes of sample data still to come, once `format` is known

  for await (const chunk of source) {
    buffered = buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffered, chunk]);
    if (!format) {
      const header = parseWavHeader(buffered);
      if (!header) continue;
      assertPcm16Mono(header.format);
      const { channels, sampleRate, bitsPerSample } = header.format;
      format = { sampleRate, channels, bitsPerSample };
      dataLeft = header.declaredDataBytes ?? Number.POSITIVE_INFINITY;
      buffered = buffered.subarray(header.dataStart);
    }
    // Whole samples only: an odd byte waits for the next chunk (or, past the data size, is dropped).
    const available = Math.min(buffered.length, dataLeft);
    const usable = available - (available % 2);
    if (usable <= 0) continue;
    // Copy: the Int16Array needs 2-byte alignment the chunk may not have.
    const samples = new Int16Array(usable / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = buffered.readInt16LE(i * 2);
    onSamples(samples, format);
    buffered = buffered.subarray(usable);
    dataLeft -= usable;
  }
  if (!format) throw unsupportedAudio('WAV file ends before its sample data');
  return format;
}
