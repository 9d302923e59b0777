import { parseSeconds } from './probe.js';
import type { FfmpegRunner } from './runner.js';

/** One packet of a stream, times in the file's own timeline (seconds). */
export interface PacketTime {
  pts: number;
  /** Undefined when the container does not say. */
  duration: number | undefined;
  key: boolean;
}

export interface PacketQuery {
  signal?: AbortSignal | undefined;
  /** Read only the first N packets of the stream (cheap "where does it start?"). */
  limit?: number | undefined;
  /** Input options for the file, e.g. `-fflags +genpts` (see cut-clips/timed-source.ts). */
  inputOptions?: readonly string[] | undefined;
}

/**
 * Packet times of one stream, in file order (demuxing only: nothing is decoded,
 * so listing every keyframe of a long video costs seconds, not minutes).
 */
export async function listPackets(
  ffmpeg: FfmpegRunner,
  file: string,
  streamIndex: number,
  query: PacketQuery = {},
): Promise<PacketTime[]> {
  const args = [
    ...(query.inputOptions ?? []),
    '-select_streams',
    String(streamIndex),
    '-show_entries',
    'packet=pts_time,duration_time,flags',
  ];
  if (query.limit !== undefined) args.push('-read_intervals', `%+#${query.limit}`);
  const json = await ffmpeg.probe(file, { args, signal: query.signal });
  const packets: PacketTime[] = [];
  for (const p of json.packets ?? []) {
    const pts = parseSeconds(p.pts_time);
    if (pts === undefined) continue;
    packets.push({ pts, duration: parseSeconds(p.duration_time), key: p.flags?.includes('K') ?? false });
  }
  return packets;
}

/** Sorted presentation times of the keyframes. */
export function keyframeTimes(packets: readonly PacketTime[]): number[] {
  return packets
    .filter((p) => p.key)
    .map((p) => p.pts)
    .sort((a, b) => a - b);
}
