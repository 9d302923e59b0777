import { open } from 'node:fs/promises';

/** Size, and length of the first video track, of an MP4 clipseek wrote. */
export interface Mp4VideoTrack {
  width: number;
  height: number;
  /** The track's media duration (mdhd): what ffprobe reports as the stream's duration. */
  durationS: number;
}

const FIRST_READ = 64 * 1024;
/** A moov past this is not one of our renditions (minutes of video take tens of KiB). */
const MAX_MOOV = 16 * 2 ** 20;
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

/**
 * Reads the video track's size and duration from an MP4's header, for files
 * written with `-movflags +faststart` (moov before mdat): one small read
 * instead of starting ffprobe, which costs as much CPU as sampling a short
 * clip. Undefined when the header is not at the front or has no video track;
 * callers fall back to ffprobe then.
 */
export async function readMp4VideoTrack(path: string): Promise<Mp4VideoTrack | undefined> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(FIRST_READ);
    const { bytesRead } = await file.read(head, 0, FIRST_READ, 0);
    const moov = findMoov(head.subarray(0, bytesRead));
    if (!moov) return undefined;
    if (moov.end <= bytesRead) return parseMoov(head.subarray(moov.start, moov.end));
    if (moov.end - moov.start > MAX_MOOV) return undefined;
    const body = Buffer.alloc(moov.end - moov.start);
    const read = await file.read(body, 0, body.length, moov.start);
    return read.bytesRead === body.length ? parseMoov(body) : undefined;
  } finally {
    await file.close();
  }
}

interface Box {
  type: string;
  /** Where the box's content starts and ends, in the buffer it was read from. */
  start: number;
  end: number;
}

function* boxes(buf: Buffer, start = 0, end = buf.length): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at; // to the end of the enclosing box (or file)
    }
    if (size < header) return; // damaged
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

/** The moov box among the top-level boxes at the start of the file (its end may lie past `head`). */
function findMoov(head: Buffer): Box | undefined {
  for (const box of boxes(head)) {
    if (box.type === 'moov') return box;
    if (box.type === 'mdat') return undefined; // header at the end: not a faststart file
  }
  return undefined;
}

function parseMoov(moov: Buffer): Mp4VideoTrack | undefined {
  for (const trak of boxes(moov)) {
    if (trak.type !== 'trak') continue;
    const found = new Map<string, Box>();
    collect(moov, trak, found);
    const hdlr = found.get('hdlr');
    const mdhd = found.get('mdhd');
    const stsd = found.get('stsd');
    if (!hdlr || !mdhd || !stsd || moov.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide')
      continue;
    const version = moov.readUInt8(mdhd.start);
    const timescale = moov.readUInt32BE(mdhd.start + (version === 1 ? 20 : 12));
    const duration =
      version === 1 ? Number(moov.readBigUInt64BE(mdhd.start + 24)) : moov.readUInt32BE(mdhd.start + 16);
    // stsd: version/flags, entry count, then the first sample entry box (avc1, …):
    // 6 reserved + 2 data reference index + 16 pre-defined/reserved, then width and height.
    const entry = stsd.start + 8 + 8;
    if (entry + 28 > stsd.end || timescale === 0) return undefined;
    return {
      width: moov.readUInt16BE(entry + 24),
      height: moov.readUInt16BE(entry + 26),
      durationS: duration / timescale,
    };
  }
  return undefined;
}

/** The boxes of one track that matter here, by type (first of each). */
function collect(buf: Buffer, parent: Box, found: Map<string, Box>): void {
  for (const box of boxes(buf, parent.start, parent.end)) {
    if (!found.has(box.type)) found.set(box.type, box);
    if (CONTAINERS.has(box.type)) collect(buf, box, found);
  }
}
