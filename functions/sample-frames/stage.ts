import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import type { Frame } from '../../common/contracts/stages.js';
import { InputError } from '../../common/errors.js';
import { contentEndS } from '../../common/ffmpeg/limits.js';
import { asUnreadable } from '../../common/ffmpeg/media-errors.js';
import type { FfmpegDeps } from '../../common/ffmpeg/runner.js';
import { evenScaleFilter } from '../../common/ffmpeg/scale.js';
import { CONTENT_TYPES, downloadObject, uploadFile } from '../../common/ffmpeg/transfer.js';
import { defineStage } from '../../common/stage.js';
import { frameTimesFilters, middleIndex, parseFrameTimes, sampledFrameTimes } from './frame-times.js';

const JPEG_QUALITY_SCALE = '3'; // ffmpeg's -q:v for mjpeg: 2 (best) … 31
const THUMB_JPEG_QUALITY = 80;
const UPLOADS_IN_PARALLEL = 4;

const FRAME_TIMES_FILE = 'frame-times.txt';

/**
 * sample-frames: JPEG frames of the clip's rendition at the profile's rate
 * (scaled down to max_width), each with its real time in the clip, plus one
 * thumbnail made with sharp from the middle frame. One ffmpeg run does it all:
 * no ffprobe before (the scale filter reads the width itself) or after (ffmpeg
 * writes every decoded frame's time as it goes) — on a short clip, starting
 * ffprobe costs as much as the sampling.
 */
export const sampleFrames = defineStage<'sample-frames', FfmpegDeps>({
  name: 'sample-frames',
  async run(input, { store, ffmpeg, signal, outputKey }) {
    const { params } = input;
    return ffmpeg.withTempDir(async (dir) => {
      const video = join(dir, 'clip.mp4');
      await downloadObject(store, input.video_key, video, signal);

      // The fps filter's round=up picks, for output frame i, the frame on screen at i / fps
      // (see frame-times.ts); setpts makes i count from the clip's first frame.
      const filters = [
        'setpts=PTS-STARTPTS',
        ...frameTimesFilters(FRAME_TIMES_FILE),
        `fps=${params.fps}:round=up`,
        evenScaleFilter('width', params.max_width),
      ].join(',');
      await ffmpeg
        .run(
          [
            ...['-i', video, '-map', '0:v:0', '-vf', filters, '-q:v', JPEG_QUALITY_SCALE],
            // No more frames than the clip's duration holds, whatever the file does.
            ...['-t', contentEndS(input.duration_s).toFixed(6)],
            ...['-start_number', '0', '-f', 'image2', join(dir, 'frame-%05d.jpg')],
          ],
          { signal, cwd: dir }, // the times file is named relative to it: no escaping of paths in the filter
        )
        .catch((err: unknown) => {
          throw asUnreadable(err);
        });
      const files = (await readdir(dir)).filter((f) => /^frame-\d{5}\.jpg$/.test(f)).sort();
      if (files.length === 0)
        throw new InputError('UNREADABLE_MEDIA', 'no frame could be decoded from the clip');
      const decoded = parseFrameTimes(await readFile(join(dir, FRAME_TIMES_FILE), 'utf8'));
      const times = sampledFrameTimes(decoded, files.length, params.fps);

      const limit = pLimit(UPLOADS_IN_PARALLEL);
      const frames: Frame[] = await Promise.all(
        files.map((file, i) =>
          limit(async () => {
            const key = outputKey(file);
            await uploadFile(store, key, join(dir, file), CONTENT_TYPES.jpeg);
            return { key, t: times[i]! };
          }),
        ),
      );

      const thumb = join(dir, 'thumb.jpg');
      await sharp(join(dir, files[middleIndex(files.length)]!))
        .resize({ width: params.thumb_width, withoutEnlargement: true })
        .jpeg({ quality: THUMB_JPEG_QUALITY })
        .toFile(thumb);
      const thumbnailKey = outputKey('thumb.jpg');
      await uploadFile(store, thumbnailKey, thumb, CONTENT_TYPES.jpeg);
      return { clip: input.clip, frames, thumbnail_key: thumbnailKey };
    });
  },
});
