import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import type { Frame } from '../../common/contracts/stages.js';
import { InputError } from '../../common/errors.js';
import { probeInput } from '../../common/ffmpeg/media-errors.js';
import { listPackets } from '../../common/ffmpeg/packets.js';
import { displaySize, mainVideoStream } from '../../common/ffmpeg/probe.js';
import type { FfmpegDeps } from '../../common/ffmpeg/runner.js';
import { CONTENT_TYPES, downloadObject, uploadFile } from '../../common/ffmpeg/transfer.js';
import { requestKeys } from '../../common/keys.js';
import { defineStage } from '../../common/stage.js';
import { middleIndex, sampledFrameTimes } from './frame-times.js';

const JPEG_QUALITY_SCALE = '3'; // ffmpeg's -q:v for mjpeg: 2 (best) … 31
const THUMB_JPEG_QUALITY = 80;
const UPLOADS_IN_PARALLEL = 4;

/**
 * sample-frames: JPEG frames of the clip's rendition at the profile's rate
 * (scaled down to max_width), each with its real time in the clip, plus one
 * thumbnail made with sharp from the middle frame.
 */
export const sampleFrames = defineStage<'sample-frames', FfmpegDeps>({
  name: 'sample-frames',
  async run(input, { store, ffmpeg, signal }) {
    const { params } = input;
    return ffmpeg.withTempDir(async (dir) => {
      const video = join(dir, 'clip.mp4');
      await downloadObject(store, input.video_key, video, signal);
      const stream = mainVideoStream(await probeInput(ffmpeg, video, signal));
      if (!stream) throw new InputError('NO_VIDEO_STREAM', 'the clip has no video stream');
      const width = Math.min(displaySize(stream).width ?? params.max_width, params.max_width);

      // The fps filter's round=up picks, for output frame i, the frame on screen at i / fps
      // (see frame-times.ts); setpts makes i count from the clip's first frame.
      const filters = `setpts=PTS-STARTPTS,fps=${params.fps}:round=up,scale=${width}:-2`;
      await ffmpeg.run(
        [
          ...['-i', video, '-map', `0:${stream.index}`, '-vf', filters],
          ...['-q:v', JPEG_QUALITY_SCALE, '-start_number', '0', '-f', 'image2', join(dir, 'frame-%05d.jpg')],
        ],
        { signal },
      );
      const files = (await readdir(dir)).filter((f) => /^frame-\d{5}\.jpg$/.test(f)).sort();
      if (files.length === 0)
        throw new InputError('UNREADABLE_MEDIA', 'no frame could be decoded from the clip');
      const packets = await listPackets(ffmpeg, video, stream.index, { signal });
      const times = sampledFrameTimes(
        packets.map((p) => p.pts),
        files.length,
        params.fps,
      );

      const keys = requestKeys(input.request_id);
      const limit = pLimit(UPLOADS_IN_PARALLEL);
      const frames: Frame[] = await Promise.all(
        files.map((file, i) =>
          limit(async () => {
            const key = keys.stageFile('sample-frames', file, input.clip);
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
      const thumbnailKey = keys.stageFile('sample-frames', 'thumb.jpg', input.clip);
      await uploadFile(store, thumbnailKey, thumb, CONTENT_TYPES.jpeg);
      return { clip: input.clip, frames, thumbnail_key: thumbnailKey };
    });
  },
});
