import { FfmpegError } from './errors.js';
import { limitsExceeded } from './limits.js';
import { parseSeconds } from './probe.js';
import type { FfmpegRunner } from './runner.js';

/** One packet of a stream, as ffprobe lists it (times in the file's own timeline, seconds). */
export interface PacketTime {
  /** Presentation time; undefined when the container does not say (e.g. AVI video). */
  pts: number | undefined;
  /** Decoding time: where a packet without a presentation time lies. */
  dts: number | undefined;
  key: boolean;
}

export interface PacketScan {
  streamIndex: number;
  /** Seek here first (the file's own timeline, seconds) and read from there; default the start. */
  fromS?: number | undefined;
  /** A packet later than this (the file's own timeline) means the stream holds more than the file declares. */
  endS: number;
  /** More packets than this is more than we accept. */
  maxPackets: number;
  /** Input options for the file, e.g. `-fflags +genpts` (see cut-clips/timed-source.ts). */
  inputOptions?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Reads the packets of one stream, one line of ffprobe output at a time
 * (demuxing only: nothing is decoded), handing each to `onPacket`; returns
 * how many there were. Memory stays bounded whatever the file holds, and
 * the reading stops with MEDIA_LIMITS_EXCEEDED at the first packet past
 * `endS` or past `maxPackets` — what the stream really holds, not what its
 * header says. A seek ffprobe cannot do is read from the start instead.
 */
export async function scanPackets(
  ffmpeg: FfmpegRunner,
  file: string,
  scan: PacketScan,
  onPacket: (packet: PacketTime) => void = () => {},
): Promise<number> {
  const seek = scan.fromS !== undefined && scan.fromS > 0;
  let seen = false;
  const handle = (packet: PacketTime) => {
    seen = true;
    onPacket(packet);
  };
  try {
    return await readPackets(ffmpeg, file, seek ? scan : { ...scan, fromS: undefined }, handle);
  } catch (err) {
    // ffprobe exits with an error when it cannot seek, before it lists anything.
    if (!seek || seen || !(err instanceof FfmpegError)) throw err;
    return readPackets(ffmpeg, file, { ...scan, fromS: undefined }, onPacket);
  }
}

async function readPackets(
  ffmpeg: FfmpegRunner,
  file: string,
  scan: PacketScan,
  onPacket: (packet: PacketTime) => void,
): Promise<number> {
  const args = [
    ...(scan.inputOptions ?? []),
    ...['-select_streams', String(scan.streamIndex)],
    ...['-show_entries', 'packet=pts_time,dts_time,flags'],
    ...(scan.fromS === undefined ? [] : ['-read_intervals', `${scan.fromS.toFixed(6)}%`]),
  ];
  let count = 0;
  await ffmpeg.probeLines(file, {
    args,
    signal: scan.signal,
    onLine: (line) => {
      const packet = parsePacketLine(line);
      if (!packet) return;
      count += 1;
      if (count > scan.maxPackets) {
        throw limitsExceeded('the video holds more packets than its declared duration and the limits allow', {
          stream: scan.streamIndex,
          max_packets: scan.maxPackets,
        });
      }
      const t = packet.pts ?? packet.dts;
      if (t !== undefined && t > scan.endS) {
        throw limitsExceeded('the media holds more than its header declares', {
          stream: scan.streamIndex,
          packet_time_s: t,
          content_end_s: scan.endS,
        });
      }
      onPacket(packet);
    },
  });
  return count;
}

/** "pts_time=1.000000|dts_time=0.960000|flags=K_" (ffprobe's compact output) → PacketTime; other lines → undefined. */
export function parsePacketLine(line: string): PacketTime | undefined {
  const fields = new Map<string, string>();
  for (const pair of line.split('|')) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const flags = fields.get('flags');
  if (flags === undefined) return undefined;
  return {
    pts: parseSeconds(fields.get('pts_time')),
    dts: parseSeconds(fields.get('dts_time')),
    key: flags.includes('K'),
  };
}

/**
 * Sorted presentation times of one stream's keyframes, within the limits of
 * `scan`: all a cut needs, without holding a line per packet.
 */
export async function keyframeTimes(ffmpeg: FfmpegRunner, file: string, scan: PacketScan): Promise<number[]> {
  const keyframes: number[] = [];
  await scanPackets(ffmpeg, file, scan, (p) => {
    if (p.key && p.pts !== undefined) keyframes.push(p.pts);
  });
  return keyframes.sort((a, b) => a - b);
}
