/**
 * cut-clips + transcode-clip on the same video in three containers: MP4 (cut
 * into .mov pieces), MPEG-TS (timestamps starting near 1.4 s, no seek index)
 * and Matroska (cut into .mkv pieces). Keyframes are 250 frames apart, so any
 * keyframe rounding would show up as seconds of error, not frames.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipBoundary } from '../../common/contracts/stages.js';
import { requestKeys } from '../../common/keys.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { cutClips } from '../../functions/cut-clips/stage.js';
import { transcodeClip } from '../../functions/transcode-clip/stage.js';
import { ffprobeJson, locateFirstFrame, remuxed, type SpeechVideo, speechVideo } from '../helpers/media.js';
import { type MediaStageHarness, mediaStageHarness } from '../helpers/media-stages.js';

// Around the keyframe at 8.333 s: starting on the very first frame, just before a
// keyframe, just after one, and running to the end of the video.
const CLIPS: ClipBoundary[] = [
  { index: 0, start: 0, end: 2 },
  { index: 1, start: 8.2, end: 9.5 },
  { index: 2, start: 8.4, end: 10.1 },
  { index: 3, start: 12.05, end: 16 },
];

let h: MediaStageHarness;
let video: SpeechVideo;
beforeAll(async () => {
  h = await mediaStageHarness();
  video = await speechVideo();
});
afterAll(() => h.cleanup());

const containers = [
  { name: 'mp4', pieceExt: '.mov', source: async () => video.path },
  { name: 'mpegts', pieceExt: '.mkv', source: () => remuxed(video.path, 'mpegts', 'm2t') },
  { name: 'matroska', pieceExt: '.mkv', source: () => remuxed(video.path, 'matroska', 'mkv') },
];

describe.each(containers)('$name source', ({ name, pieceExt, source }) => {
  it('pieces start on a keyframe before each clip; renditions start and last within one frame', async () => {
    const path = await source();
    const id = `req-cut-${name}`;
    const sourceKey = requestKeys(id).input('source');
    await h.store.put(sourceKey, await readFile(path));
    const { pieces } = (
      await runStageOnce(cutClips, { request_id: id, source_key: sourceKey, clips: CLIPS }, h.deps())
    ).manifest.output;

    // Source time 0 is the container's start; in MPEG-TS the first video frame comes a little later.
    const info = await ffprobeJson<{
      streams: Array<{ start_time: string }>;
      format: { start_time: string };
    }>(path, ['-select_streams', 'v:0', '-show_streams', '-show_format']);
    const firstFrameS = Number(info.streams[0]!.start_time) - Number(info.format.start_time);
    const fps = video.options.fps;
    const frame = 1 / fps;
    const keyframeSpacing = video.options.gop / fps;
    for (const piece of pieces) {
      expect(piece.piece_key.endsWith(pieceExt)).toBe(true);
      expect(piece.piece_start_s).toBeLessThanOrEqual(Math.max(piece.start, firstFrameS) + 1e-3);
      // No keyframe lies between the piece start and the clip start: the piece is as short as it can be.
      expect(piece.start - piece.piece_start_s).toBeLessThan(keyframeSpacing);

      const out = (
        await runStageOnce(
          transcodeClip,
          {
            request_id: id,
            clip: piece.index,
            piece_key: piece.piece_key,
            offset_s: piece.offset_s,
            duration_s: piece.end - piece.start,
            params: { ...resolveProfile('fast').transcode, height: 120 },
          },
          h.deps(),
        )
      ).manifest.output;
      const mp4 = join(h.dir, `${name}-${piece.index}.mp4`);
      await writeFile(mp4, await h.store.getBytes(out.video_key));
      const probe = await ffprobeJson<{ streams: Array<Record<string, string>> }>(mp4, [
        '-count_packets',
        '-select_streams',
        'v:0',
        '-show_streams',
      ]);
      const wanted = piece.end - piece.start;
      expect(Math.abs(Number(probe.streams[0]!.nb_read_packets) * frame - wanted)).toBeLessThanOrEqual(
        frame + 1e-6,
      );
      expect(out).toMatchObject({ width: 160, height: 120 });

      // Compare with the original MP4 (exact seeking; MPEG-TS seeking is not): frame n is at
      // firstFrameS + n/fps in this container and at n/fps in the MP4.
      const expected = Math.max(0, piece.start - firstFrameS);
      const shown = await locateFirstFrame(mp4, video.path, expected, fps);
      expect(
        Math.abs(shown - expected),
        `clip ${piece.index} shows ${shown}, wanted ${expected}`,
      ).toBeLessThanOrEqual(frame + 1e-3);
    }
  });
});
