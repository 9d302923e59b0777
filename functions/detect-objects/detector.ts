/** Decoded frame pixels: RGB, 3 bytes per pixel, row by row. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** One object a model saw in one image. */
export interface RawDetection {
  /** A COCO-80 label, as the model names it ("motorcycle", "cell phone"). */
  label: string;
  /** 0..1 */
  score: number;
  /** [x, y, width, height], normalized to 0..1 of the image. */
  box: [number, number, number, number];
}

/**
 * An object detector. It returns every candidate above its own low floor;
 * the stage applies the profile's threshold, non-max suppression and limit,
 * so a fake in a unit test exercises the same selection.
 */
export interface ObjectDetector {
  /** Names the model in the stage output, e.g. "human-3.3.6/centernet". */
  readonly model: string;
  detect(image: RgbImage): Promise<RawDetection[]>;
}
