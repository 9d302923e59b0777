/**
 * Recognises a media container from the first bytes of a file, without ffmpeg.
 * Used to tell "not a media file at all" (a playlist, text, an image …) from
 * "a media file that is damaged" without reading ffmpeg's log text. Only the
 * containers in ALLOWED_INPUT_FORMATS are recognised.
 */
export type ContainerFamily =
  | 'mp4'
  | 'matroska'
  | 'avi'
  | 'wav'
  | 'mpegts'
  | 'flv'
  | 'mpeg-ps'
  | 'asf'
  | 'mp3'
  | 'ogg'
  | 'flac'
  | 'aac';

/** Bytes `sniffContainer` wants to see (more is fine). */
export const SNIFF_BYTES = 1024;

// ISO BMFF / QuickTime top-level boxes a file can start with.
const MP4_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid']);
const ASF_GUID = Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex');
const TS_PACKET = 188;

export function sniffContainer(head: Uint8Array): ContainerFamily | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const ascii = (start: number, end: number) => b.subarray(start, end).toString('latin1');
  if (b.length >= 8 && MP4_BOXES.has(ascii(4, 8))) return 'mp4';
  if (b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3) return 'matroska';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF') {
    const form = ascii(8, 12);
    if (form === 'AVI ') return 'avi';
    if (form === 'WAVE') return 'wav';
    return undefined;
  }
  if (ascii(0, 3) === 'FLV') return 'flv';
  if (b.length >= 16 && b.subarray(0, 16).equals(ASF_GUID)) return 'asf';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (b.length >= 4 && b.readUInt32BE(0) === 0x000001ba) return 'mpeg-ps';
  if (isTransportStream(b)) return 'mpegts';
  if (ascii(0, 3) === 'ID3') return 'mp3';
  // MPEG audio frame sync: 11 set bits. Layer bits 00 = ADTS (AAC), otherwise MP3.
  if (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0) return (b[1]! & 0x06) === 0 ? 'aac' : 'mp3';
  return undefined;
}

/** Sync byte 0x47 at the start of three consecutive packets (188 bytes, or 192 for M2TS). */
function isTransportStream(b: Buffer): boolean {
  for (const [offset, size] of [
    [0, TS_PACKET],
    [4, TS_PACKET + 4],
  ] as const) {
    if (b.length < offset + 2 * size + 1) continue;
    if (b[offset] === 0x47 && b[offset + size] === 0x47 && b[offset + 2 * size] === 0x47) return true;
  }
  return false;
}
