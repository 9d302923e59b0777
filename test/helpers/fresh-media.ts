/**
 * "A new video" for benches and tests, cheaply: stage results are shared by
 * the source's sha256, so the same file twice is analysed once. A copy with a
 * unique tag in a box (MP4/MOV: a top-level `free` box) or chunk (AVI: a
 * `JUNK` chunk after the RIFF list) that every demuxer skips is the same media
 * with another sha256 — no re-encode, valid for every probe and limit check.
 */
import { readFile } from 'node:fs/promises';
import { sniffContainer } from '../../common/ffmpeg/sniff.js';

export function taggedCopy(bytes: Buffer, tag: string): Buffer {
  const body = Buffer.from(`clipseek fresh copy: ${tag}`, 'utf8');
  const container = sniffContainer(bytes.subarray(0, 16));
  if (container === 'mp4') {
    // ISO BMFF: size (4 bytes, big-endian, header included) + type.
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + body.length, 0);
    header.write('free', 4, 'latin1');
    return Buffer.concat([bytes, header, body]);
  }
  if (container === 'avi') {
    // RIFF: type + size (4 bytes, little-endian, header excluded) + data padded to an even length.
    const header = Buffer.alloc(8);
    header.write('JUNK', 0, 'latin1');
    header.writeUInt32LE(body.length, 4);
    return Buffer.concat([bytes, header, body, Buffer.alloc(body.length % 2)]);
  }
  throw new Error(`taggedCopy: an MP4/MOV or AVI file, not ${container ?? 'an unknown container'}`);
}

/** taggedCopy of a file on disk. */
export async function taggedFile(path: string, tag: string): Promise<Buffer> {
  return taggedCopy(await readFile(path), tag);
}
