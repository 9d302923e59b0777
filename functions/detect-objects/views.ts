import type { RawDetection, RgbImage } from './detector.js';

/**
 * What the model is shown of one frame. CenterNet's input is a 512×512
 * square: a 16:9 frame handed over as it is gets squashed, and small objects
 * shrink further.
 * - `letterbox`: the whole frame, aspect kept, padded to a square with grey.
 * - `tiles`: overlapping squares as tall as the frame (as wide, for portrait),
 *   at most half a side apart, so every object is seen at a larger scale and
 *   unsquashed; a square frame is one tile. An object larger than a tile is
 *   cut by every tile, though.
 * - `both`: the letterbox and the tiles (a square frame: one view): small
 *   objects from the tiles, large ones from the whole frame.
 */
export type ViewMode = 'letterbox' | 'tiles' | 'both';

/** The usual letterbox grey (114, 114, 114): what such models were trained with. */
export const PAD_GREY = 114;

export interface View {
  image: RgbImage;
  /** A box normalised to this view → normalised to the frame. */
  toFrame(box: RawDetection['box']): RawDetection['box'];
}

export function frameViews(frame: RgbImage, mode: ViewMode): View[] {
  const tiles = () => squareTiles(frame).map((tile) => cropView(frame, tile));
  if (mode === 'letterbox') return [letterbox(frame)];
  if (mode === 'tiles') return tiles();
  return frame.width === frame.height ? tiles() : [letterbox(frame), ...tiles()];
}

/** The frame centred on a grey square of side max(width, height). */
export function letterbox(frame: RgbImage, grey = PAD_GREY): View {
  const { width: w, height: h } = frame;
  const side = Math.max(w, h);
  const offX = Math.floor((side - w) / 2);
  const offY = Math.floor((side - h) / 2);
  const data = new Uint8Array(side * side * 3).fill(grey);
  for (let y = 0; y < h; y++) {
    data.set(frame.data.subarray(y * w * 3, (y + 1) * w * 3), ((y + offY) * side + offX) * 3);
  }
  return {
    image: { data, width: side, height: side },
    toFrame: ([x, y, bw, bh]) => [
      (x * side - offX) / w,
      (y * side - offY) / h,
      (bw * side) / w,
      (bh * side) / h,
    ],
  };
}

export interface Tile {
  x: number;
  y: number;
  side: number;
}

/** Squares of side min(width, height) along the long side, the first and last at the edges. */
export function squareTiles({ width: w, height: h }: Pick<RgbImage, 'width' | 'height'>): Tile[] {
  const side = Math.min(w, h);
  const extra = Math.max(w, h) - side;
  const count = extra === 0 ? 1 : Math.ceil(extra / (side / 2)) + 1;
  return Array.from({ length: count }, (_, i) => {
    const at = count === 1 ? 0 : Math.round((extra * i) / (count - 1));
    return w >= h ? { x: at, y: 0, side } : { x: 0, y: at, side };
  });
}

function cropView(frame: RgbImage, { x, y, side }: Tile): View {
  const data = new Uint8Array(side * side * 3);
  for (let row = 0; row < side; row++) {
    const from = ((y + row) * frame.width + x) * 3;
    data.set(frame.data.subarray(from, from + side * 3), row * side * 3);
  }
  const { width: w, height: h } = frame;
  return {
    image: { data, width: side, height: side },
    toFrame: ([bx, by, bw, bh]) => [
      (x + bx * side) / w,
      (y + by * side) / h,
      (bw * side) / w,
      (bh * side) / h,
    ],
  };
}
