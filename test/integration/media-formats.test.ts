/**
 * Common files that used to fail in the media stages, each through
 * extract-audio → segment-speech → cut-clips → transcode-clip → sample-frames
 * with real ffmpeg: an old DivX AVI (packed B-frames, AC3 audio), and videos
 * of sizes 4:2:0 encoders refuse (1×1, odd, and strips 2 pixels thin).
 * (Exact frames of the AVI's renditions: media-cut-transcode.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipBoundary } from '../../common/contracts/stages.js';
import { requestKeys } from '../../common/keys.js';
import { resolveProfile } from '../../common/profiles.js';
import { runStageOnce } from '../../common/stage.js';
import { cutClips } from '../../functions/cut-clips/stage.js';
import { extractAudio } from '../../functions/extract-audio/stage.js';
import { transcodeInputOf } from '../../functions/orchestrator/dag.js';
import { sampleFrames } from '../../functions/sample-frames/stage.js';
import { segmentSpeech } from '../../functions/segment-speech/stage.js';
import { transcodeClip } from '../../functions/transcode-clip/stage.js';
import { ffprobeJson, h264BFramesAvi, packedDivxAvi, speechVideo, tinyVideo } from '../helpers/media.js';
import { listKeys, type MediaStageHarness, mediaStageHarness } from '../helpers/media-stages.js';

const profile = resolveProfile('default');

let h: MediaStageHarness;
beforeAll(async () => {
  h = await mediaStageHarness();
});
afterAll(() => h.cleanup());

/** Every media stage on `file`, with the clips segment-speech finds (or `clips`). */
async function throughTheStages(id: string, file: string, clips?: ClipBoundary[]) {
  const sourceKey = requestKeys(id).input('source');
  await h.store.put(sourceKey, await readFile(file));
  const run = <T>(p: Promise<{ manifest: { output: T } }>) => p.then((r) => r.manifest.output);
  const audio = await run(
    runStageOnce(extractAudio, { namespace: 'default', request_id: id, source_key: sourceKey }, h.deps()),
  );
  const segments = await run(
    runStageOnce(
      segmentSpeech,
      {
        namespace: 'default',
        request_id: id,
        audio_key: audio.audio_key,
        duration_s: audio.probe.duration_s,
        params: profile.segment,
      },
      h.deps(),
    ),
  );
  const { pieces } = await run(
    runStageOnce(
      cutClips,
      { namespace: 'default', request_id: id, source_key: sourceKey, clips: clips ?? segments.clips },
      h.deps(),
    ),
  );
  const clipsOut = [];
  for (const piece of pieces) {
    const rendition = await run(
      runStageOnce(
        transcodeClip,
        transcodeInputOf({ namespace: 'default', request_id: id }, piece, profile.transcode),
        h.deps(),
      ),
    );
    const frames = await run(
      runStageOnce(
        sampleFrames,
        {
          namespace: 'default',
          request_id: id,
          clip: piece.index,
          video_key: rendition.video_key,
          duration_s: rendition.duration_s,
          params: profile.frames,
        },
        h.deps(),
      ),
    );
    const jpeg = await sharp(await h.store.getBytes(frames.frames[0]!.key)).metadata();
    clipsOut.push({ piece, rendition, frames, jpeg: { width: jpeg.width, height: jpeg.height } });
  }
  return { audio, clips: clipsOut };
}

describe('an old DivX AVI: MPEG-4 Part 2 with packed B-frames, AC3 audio', () => {
  let avi: string;
  beforeAll(async () => {
    avi = await packedDivxAvi((await speechVideo()).path);
  });

  it('the fixture is one: placeholder chunks of a few bytes, keyframes without presentation times', async () => {
    const { packets } = await ffprobeJson<{
      packets: Array<{ pts_time?: string; size: string; flags: string }>;
    }>(avi, ['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,size,flags']);
    expect(packets.filter((p) => Number(p.size) <= 8).length).toBeGreaterThan(10);
    const keyframes = packets.filter((p) => p.flags.startsWith('K'));
    expect(keyframes.length).toBeGreaterThan(0);
    expect(keyframes.every((p) => p.pts_time === undefined || p.pts_time === 'N/A')).toBe(true);
  });

  it('goes through every media stage: Matroska pieces, H.264 renditions, JPEG frames', async () => {
    const { audio, clips } = await throughTheStages('req-divx', avi);
    expect(audio.probe).toMatchObject({
      format_name: 'avi',
      video: { codec: 'mpeg4', width: 320, height: 240 },
      audio: { codec: 'ac3' },
    });
    expect(clips.length).toBeGreaterThanOrEqual(2);
    for (const { piece, rendition, frames, jpeg } of clips) {
      expect(piece.piece_key.endsWith('.mkv')).toBe(true);
      // A piece starts at or before its clip; the first clip starts at 0, its piece on the first
      // frame (B-frames put the first presentation time a few frames in).
      expect(piece.piece_start_s).toBeLessThanOrEqual(piece.start + (piece.index === 0 ? 0.2 : 1e-3));
      expect(rendition).toMatchObject({ width: 320, height: 240 });
      expect(Math.abs(rendition.duration_s - (piece.end - piece.start))).toBeLessThan(0.1);
      expect(frames.frames.length).toBeGreaterThanOrEqual(1);
      expect(jpeg).toEqual({ width: 320, height: 240 });
    }
  });
});

describe('sizes 4:2:0 encoders refuse: scaled to even sizes of at least 2×2', () => {
  const sizes = [
    { source: [1, 1], rendition: [2, 2], frame: [2, 2] },
    { source: [33, 17], rendition: [32, 16], frame: [32, 16] },
    // Bounded by the profile's width (640) the height would round to 0.
    { source: [7680, 2], rendition: [7680, 2], frame: [640, 2] },
    { source: [2, 7680], rendition: [2, 360], frame: [2, 360] },
  ];
  it.each(sizes)(
    '$source.0×$source.1 → renditions $rendition.0×$rendition.1, frames $frame.0×$frame.1',
    async ({ source, rendition, frame }) => {
      const [w, h_] = source as [number, number];
      const out = await throughTheStages(`req-size-${w}x${h_}`, await tinyVideo(w, h_), [
        { index: 0, start: 0.5, end: 2.5 },
      ]);
      expect(out.audio.probe.video).toMatchObject({ width: w, height: h_ });
      const [clip] = out.clips;
      expect(clip!.rendition).toMatchObject({ width: rendition[0], height: rendition[1] });
      expect(clip!.rendition.duration_s).toBeCloseTo(2, 1);
      expect(clip!.frames.frames.length).toBe(2);
      expect(clip!.jpeg).toEqual({ width: frame[0], height: frame[1] });
    },
  );
});

describe('H.264 with B-frames in AVI', () => {
  it('cut-clips refuses it as MISSING_TIMESTAMPS (422), writing nothing', async () => {
    const id = 'req-h264-avi';
    const sourceKey = requestKeys(id).input('source.avi');
    await h.store.put(sourceKey, await readFile(await h264BFramesAvi()));
    const before = await listKeys(h.store, '');
    const clips = [{ index: 0, start: 1, end: 3 }];
    await expect(
      runStageOnce(
        cutClips,
        { namespace: 'default', request_id: id, source_key: sourceKey, clips },
        h.deps(),
      ),
    ).rejects.toMatchObject({ code: 'MISSING_TIMESTAMPS', status: 422, retryable: false });
    expect(await listKeys(h.store, '')).toEqual(before);
  });
});
