import { InputError } from '../../common/errors.js';

export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

const PCM = 1;
const EXTENSIBLE = 0xfffe;
/** ffmpeg writes this (or 0) as the data size when it could not seek back to fix it. */
const UNKNOWN_SIZE = 0xffffffff;

function badWav(message: string, details: Record<string, unknown> = {}): InputError {
  return new InputError('UNSUPPORTED_AUDIO_FORMAT', message, { details });
}

/**
 * Streams a 16-bit PCM mono WAV: parses the RIFF header, then hands the
 * samples to `onSamples` chunk by chunk (the file is never held in memory);
 * every call gets the parsed format too.
 * Anything else (float, stereo, compressed) is UNSUPPORTED_AUDIO_FORMAT: the
 * stage reads only what extract-audio writes.
 */
export async function readPcm16Mono(
  source: AsyncIterable<Uint8Array>,
  onSamples: (samples: Int16Array, format: WavFormat) => void,
): Promise<WavFormat> {
  let buffered = Buffer.alloc(0);
  let format: WavFormat | undefined;
  let dataLeft: number | undefined; // bytes of sample data still to come, once inside `data`
  let headerChecked = false;

  const emit = () => {
    const usable = Math.min(buffered.length - (buffered.length % 2), dataLeft ?? 0);
    if (usable <= 0) return;
    // Copy: the Int16Array needs 2-byte alignment the chunk may not have.
    const samples = new Int16Array(usable / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = buffered.readInt16LE(i * 2);
    onSamples(samples, format!);
    buffered = buffered.subarray(usable);
    dataLeft = (dataLeft ?? 0) - usable;
  };

  for await (const chunk of source) {
    buffered = buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffered, chunk]);
    if (!headerChecked) {
      if (buffered.length < 12) continue;
      if (buffered.toString('latin1', 0, 4) !== 'RIFF' || buffered.toString('latin1', 8, 12) !== 'WAVE') {
        throw badWav('not a RIFF/WAVE file');
      }
      buffered = buffered.subarray(12);
      headerChecked = true;
    }
    // Walk chunks until `data` starts.
    while (dataLeft === undefined && buffered.length >= 8) {
      const id = buffered.toString('latin1', 0, 4);
      const size = buffered.readUInt32LE(4);
      if (id === 'data') {
        if (!format) throw badWav('WAV data before its fmt chunk');
        dataLeft = size === 0 || size === UNKNOWN_SIZE ? Number.POSITIVE_INFINITY : size;
        buffered = buffered.subarray(8);
        break;
      }
      const padded = size + (size % 2); // RIFF chunks are word-aligned
      if (buffered.length < 8 + padded) break; // wait for the whole chunk
      if (id === 'fmt ') format = parseFmt(buffered.subarray(8, 8 + size));
      buffered = buffered.subarray(8 + padded);
    }
    if (dataLeft !== undefined) emit();
  }
  if (!format || dataLeft === undefined) throw badWav('WAV file ends before its sample data');
  return format;
}

function parseFmt(fmt: Buffer): WavFormat {
  if (fmt.length < 16) throw badWav('WAV fmt chunk too short');
  const audioFormat = fmt.readUInt16LE(0);
  const wav: WavFormat = {
    channels: fmt.readUInt16LE(2),
    sampleRate: fmt.readUInt32LE(4),
    bitsPerSample: fmt.readUInt16LE(14),
  };
  const pcm =
    audioFormat === PCM || (audioFormat === EXTENSIBLE && fmt.length >= 26 && fmt.readUInt16LE(24) === PCM);
  if (!pcm || wav.bitsPerSample !== 16 || wav.channels !== 1 || wav.sampleRate <= 0) {
    throw badWav('expected 16-bit PCM mono WAV', { audio_format: audioFormat, ...wav });
  }
  return wav;
}
