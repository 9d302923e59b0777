import sharp from 'sharp';
import { InputError } from '../../common/errors.js';
import type { RgbImage } from './detector.js';

/** The model looks at 512×512; bigger frames only cost memory. */
const MAX_SIDE = 1024;

/** JPEG/PNG bytes → RGB pixels (alpha dropped, grey expanded, large frames shrunk). */
export async function decodeFrame(bytes: Buffer, key: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes)
      .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new InputError('INVALID_FRAME', `frame ${key} is not a decodable image`, {
      details: { key },
      cause: err,
    });
  }
}
