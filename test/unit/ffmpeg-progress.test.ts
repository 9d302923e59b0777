import { describe, expect, it } from 'vitest';
import { createProgressParser, type FfmpegProgress } from '../../common/ffmpeg/progress.js';

const BLOCK = (outTimeUs: string, speed: string, progress: string) =>
  `frame=10\nfps=0.0\nout_time_us=${outTimeUs}\nout_time_ms=${outTimeUs}\nout_time=00:00:01.500000\nspeed=${speed}\nprogress=${progress}\n`;

describe('ffmpeg -progress parser', () => {
  it('reports one progress per block, with seconds and speed', () => {
    const seen: FfmpegProgress[] = [];
    const feed = createProgressParser((p) => seen.push(p));
    feed(BLOCK('1500000', '2.5x', 'continue') + BLOCK('3000000', '3x', 'end'));
    expect(seen).toEqual([
      { outTimeS: 1.5, speed: 2.5, done: false },
      { outTimeS: 3, speed: 3, done: true },
    ]);
  });

  it('copes with chunks that split lines anywhere', () => {
    const seen: FfmpegProgress[] = [];
    const feed = createProgressParser((p) => seen.push(p));
    const text = BLOCK('250000', '1.01x', 'continue');
    for (const ch of text) feed(ch);
    expect(seen).toEqual([{ outTimeS: 0.25, speed: 1.01, done: false }]);
  });

  it('leaves speed out while ffmpeg says N/A, and never reports negative time', () => {
    const seen: FfmpegProgress[] = [];
    const feed = createProgressParser((p) => seen.push(p));
    feed(BLOCK('-23220', 'N/A', 'continue'));
    feed('out_time_us=N/A\nprogress=end\n');
    expect(seen).toEqual([
      { outTimeS: 0, done: false },
      { outTimeS: 0, done: true },
    ]);
  });

  it('ignores partial blocks until progress= arrives', () => {
    const seen: FfmpegProgress[] = [];
    const feed = createProgressParser((p) => seen.push(p));
    feed('out_time_us=1000000\nspeed=1x\n');
    expect(seen).toEqual([]);
  });
});
