/**
 * Speech/silence split on frame energy, after librosa.effects.split: frame
 * RMS in dB relative to the loudest frame; frames above −top_db are sound.
 * Plus hysteresis: a run of sound frames only counts if it somewhere reaches
 * hysteresis_db above that threshold, so noise hovering at the threshold does
 * not flicker into speech.
 */

/**
 * Mean square of int16 samples per frame, frames centred on multiples of
 * `hop` (librosa's center=True: half a frame of zeros padded at both ends).
 * Streaming: O(frame) memory, whatever the length. Sums of squared int16
 * values stay exact in a double up to 2^53, far beyond one frame.
 */
export class FrameEnergy {
  private readonly ring: Float64Array;
  private ringPos = 0;
  private sum = 0;
  /** Samples seen, counting the leading half-frame of zeros. */
  private position: number;
  private nextFrameEnd: number;
  private readonly out: number[] = [];

  constructor(
    private readonly frameLength: number,
    private readonly hop: number,
  ) {
    if (!(frameLength >= 1 && hop >= 1)) throw new RangeError('frame and hop must be at least one sample');
    this.ring = new Float64Array(frameLength);
    this.position = Math.floor(frameLength / 2);
    this.nextFrameEnd = frameLength;
  }

  push(samples: ArrayLike<number>): void {
    for (let i = 0; i < samples.length; i++) this.add(samples[i]!);
  }

  /** Pads the trailing half frame and returns the mean square of every frame. */
  finish(): Float64Array {
    const tail = Math.floor(this.frameLength / 2);
    for (let i = 0; i < tail; i++) this.add(0);
    return Float64Array.from(this.out);
  }

  private add(sample: number): void {
    const square = sample * sample;
    this.sum += square - this.ring[this.ringPos]!;
    this.ring[this.ringPos] = square;
    this.ringPos = (this.ringPos + 1) % this.frameLength;
    this.position += 1;
    if (this.position === this.nextFrameEnd) {
      this.out.push(this.sum / this.frameLength);
      this.nextFrameEnd += this.hop;
    }
  }
}

export interface SplitOptions {
  topDb: number;
  hysteresisDb: number;
  /**
   * A recording whose loudest frame is below this (dBFS, int16 full scale) is
   * treated as silence: relative-to-peak alone would call the hiss of a silent
   * video "speech".
   */
  absoluteFloorDbfs: number;
}

export const INT16_FULL_SCALE_SQUARE = 32768 * 32768;

/** Runs of sound frames as [startFrame, endFrame) pairs, in order. */
export function splitOnEnergy(
  meanSquares: ArrayLike<number>,
  options: SplitOptions,
): Array<[number, number]> {
  let peak = 0;
  for (let i = 0; i < meanSquares.length; i++) peak = Math.max(peak, meanSquares[i]!);
  if (peak === 0 || dB(peak / INT16_FULL_SCALE_SQUARE) < options.absoluteFloorDbfs) return [];

  const lower = -options.topDb;
  const upper = Math.min(0, lower + options.hysteresisDb);
  const runs: Array<[number, number]> = [];
  let start = -1;
  let reachedUpper = false;
  for (let i = 0; i <= meanSquares.length; i++) {
    const level = i < meanSquares.length ? dB(meanSquares[i]! / peak) : Number.NEGATIVE_INFINITY;
    if (level > lower) {
      if (start < 0) start = i;
      if (level >= upper) reachedUpper = true;
      continue;
    }
    if (start >= 0 && reachedUpper) runs.push([start, i]);
    start = -1;
    reachedUpper = false;
  }
  return runs;
}

/** Power ratio → decibels. */
function dB(powerRatio: number): number {
  return powerRatio > 0 ? 10 * Math.log10(powerRatio) : Number.NEGATIVE_INFINITY;
}
