/**
 * A `scale` filter that bounds one side of the picture by `max` (never
 * upscaling) and lets the other follow the aspect ratio, both rounded to even
 * sizes of at least 2: 4:2:0 encoders (libx264) refuse odd sizes, and ffmpeg's
 * own `-2` computes a side of 0 for extreme shapes. So a 1×1 video becomes 2×2,
 * 33×17 becomes 32×16, and a 7680×2 strip bounded to 640 wide stays 2 high.
 * `iw`/`ih` are the size as displayed: ffmpeg has already applied any rotation.
 */
export function evenScaleFilter(bound: 'width' | 'height', max: number): string {
  const limit = Math.floor(max);
  const even = (expr: string) => `max(2\\,${expr})`;
  return bound === 'height'
    ? `scale=w='${even('round(oh*iw/ih/2)*2')}':h='${even(`trunc(min(ih\\,${limit})/2)*2`)}'`
    : `scale=w='${even(`trunc(min(iw\\,${limit})/2)*2`)}':h='${even('round(ow*ih/iw/2)*2')}'`;
}
