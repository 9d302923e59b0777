/** One `-progress` report: how far the output has got, and how fast. */
export interface FfmpegProgress {
  /** Seconds of output written so far. */
  outTimeS: number;
  /** Multiple of real time (`speed=2.5x` → 2.5); undefined while ffmpeg reports N/A. */
  speed?: number;
  /** True on the last report (`progress=end`). */
  done: boolean;
}

/**
 * Parses the `-progress pipe:1` stream: blocks of `key=value` lines, each
 * block closed by `progress=continue` or `progress=end`. Feed it stdout chunks
 * as they arrive (they may split lines anywhere); it calls `onProgress` once
 * per complete block.
 */
export function createProgressParser(onProgress: (p: FfmpegProgress) => void): (chunk: string) => void {
  let pending = '';
  let block = new Map<string, string>();
  return (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.trim();
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1);
      if (key !== 'progress') {
        block.set(key, value);
        continue;
      }
      onProgress(toProgress(block, value === 'end'));
      block = new Map();
    }
  };
}

function toProgress(block: Map<string, string>, done: boolean): FfmpegProgress {
  // out_time_us is microseconds; out_time_ms is too (a long-standing ffmpeg quirk), so prefer _us.
  const micros = Number(block.get('out_time_us') ?? block.get('out_time_ms'));
  const speed = Number.parseFloat(block.get('speed') ?? '');
  const progress: FfmpegProgress = {
    outTimeS: Number.isFinite(micros) ? Math.max(0, micros / 1e6) : 0,
    done,
  };
  if (Number.isFinite(speed)) progress.speed = speed;
  return progress;
}
