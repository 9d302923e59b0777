/**
 * A PCM WAV of silence with any format: header (optionally with a LIST
 * chunk before `data`, as ffmpeg writes) + zeroed samples. For the WAV
 * checks; `pcm16MonoWav` in media.ts builds one from given samples.
 */
export function silentPcmWav({
  rate = 16_000,
  channels = 1,
  bits = 16,
  seconds = 1,
  list = false,
} = {}): Buffer {
  const dataBytes = Math.round(rate * seconds) * channels * (bits / 8);
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * channels * (bits / 8), 16);
  fmt.writeUInt16LE(channels * (bits / 8), 20);
  fmt.writeUInt16LE(bits, 22);
  const listChunk = list
    ? Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx\0')])
    : Buffer.alloc(0);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'ascii');
  dataHeader.writeUInt32LE(dataBytes, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, listChunk, dataHeader, Buffer.alloc(dataBytes)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}
