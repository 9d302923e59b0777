/**
 * The filter chain samples with `setpts=PTS-STARTPTS,fps=<rate>:round=up`:
 * output frame i is the input frame *on screen* at i / rate seconds after the
 * first frame, i.e. the last frame whose time is ≤ i / rate. (The fps filter's
 * default rounding would take the frame at (i + 0.5) / rate instead — half an
 * interval later than a naive i / rate.) This maps each output frame back to
 * that input frame's real time, from the video's packet times.
 */
export function sampledFrameTimes(packetTimes: readonly number[], count: number, rate: number): number[] {
  const times = [...packetTimes].sort((a, b) => a - b);
  const origin = times[0] ?? 0;
  const result: number[] = [];
  let j = 0;
  for (let i = 0; i < count; i++) {
    const tick = i / rate;
    // Tolerance for the rate ffmpeg parsed from our decimal text being a hair off.
    while (j + 1 < times.length && times[j + 1]! - origin <= tick + 1e-6) j++;
    result.push(roundUs(times[j]! - origin));
  }
  return result;
}

function roundUs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/**
 * Filters that make ffmpeg write the time of every frame passing through to
 * `file` as it decodes: `metadata=print` writes only frames that carry
 * metadata, so each frame gets a key first; `settb=AVTB` puts times in
 * microseconds, so the integer `pts:` is exact.
 */
export function frameTimesFilters(file: string): string[] {
  if (!/^[\w.-]+$/.test(file)) throw new Error(`frame times file must be a plain name: ${file}`);
  return ['settb=AVTB', 'metadata=mode=add:key=clipseek:value=1', `metadata=mode=print:file=${file}`];
}

/** Frame times in seconds from the file those filters write ("frame:12 pts:480000 pts_time:0.48"). */
export function parseFrameTimes(text: string): number[] {
  const times: number[] = [];
  for (const match of text.matchAll(/^frame:\s*\d+\s+pts:\s*(-?\d+)\s/gm)) times.push(Number(match[1]) / 1e6);
  return times;
}

/** The frame the thumbnail is made from: the middle one. */
export function middleIndex(count: number): number {
  return Math.floor((count - 1) / 2);
}
