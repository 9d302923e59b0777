import { describe, expect, it } from 'vitest';
import { FrameEnergy, splitOnEnergy } from '../../functions/segment-speech/energy-split.js';
import { toneBursts } from '../helpers/media.js';

/** The definition, computed directly: centred frames over zero-padded samples. */
function bruteForce(samples: Int16Array, frame: number, hop: number): number[] {
  const half = Math.floor(frame / 2);
  const padded = new Float64Array(samples.length + 2 * half);
  padded.set(samples, half);
  const out: number[] = [];
  for (let start = 0; start + frame <= padded.length; start += hop) {
    let sum = 0;
    for (let i = start; i < start + frame; i++) sum += padded[i]! * padded[i]!;
    out.push(sum / frame);
  }
  return out;
}

describe('FrameEnergy', () => {
  it('matches the direct computation, frame for frame, across pushes of any size', () => {
    const samples = toneBursts(0.3, [[0.05, 0.2]], { noise: 0.01 });
    for (const [frame, hop] of [
      [800, 160],
      [400, 160],
      [81, 7],
      [3, 5],
    ] as const) {
      const energy = new FrameEnergy(frame, hop);
      for (let i = 0; i < samples.length; i += 1000) energy.push(samples.subarray(i, i + 1000));
      const got = Array.from(energy.finish());
      const want = bruteForce(samples, frame, hop);
      expect(got).toHaveLength(want.length);
      got.forEach((v, i) => {
        expect(v).toBeCloseTo(want[i]!, 6);
      });
    }
  });

  it('gives 1 + floor(samples / hop) frames for an even frame length (librosa center=True)', () => {
    const energy = new FrameEnergy(800, 160);
    energy.push(new Int16Array(16_000));
    expect(energy.finish()).toHaveLength(1 + 16_000 / 160);
  });
});

describe('splitOnEnergy', () => {
  const options = { topDb: 30, hysteresisDb: 6, absoluteFloorDbfs: -60 };
  const db = (level: number) => 10 ** (level / 10) * 1e8; // mean square for a dB level, well above the floor

  it('keeps runs above peak − top_db', () => {
    const ms = [0, 0, db(0), db(-5), 0, 0, db(-2), 0].map((v) => v || db(-50));
    expect(splitOnEnergy(ms, options)).toEqual([
      [2, 4],
      [6, 7],
    ]);
  });

  it('drops runs that never rise hysteresis_db above the threshold', () => {
    // -28 dB is above -30 but never reaches -24: noise hovering at the threshold.
    const ms = [db(-50), db(0), db(-50), db(-28), db(-28), db(-50), db(-20), db(-29), db(-50)];
    expect(splitOnEnergy(ms, options)).toEqual([
      [1, 2],
      [6, 8],
    ]);
  });

  it('finds nothing in digital silence or in a recording quieter than the absolute floor', () => {
    expect(splitOnEnergy([0, 0, 0], options)).toEqual([]);
    const faint = 10 ** (-70 / 10) * 32768 * 32768; // −70 dBFS
    expect(splitOnEnergy([faint / 100, faint, faint / 100], options)).toEqual([]);
  });

  it('a run reaching the end of the audio is closed there', () => {
    expect(splitOnEnergy([db(-50), db(0), db(-1)], options)).toEqual([[1, 3]]);
  });
});
