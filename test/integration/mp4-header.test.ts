import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMp4VideoTrack } from '../../common/ffmpeg/mp4-header.js';
import { ffmpeg, ffprobeJson, videoWithoutAudio } from '../helpers/media.js';

/** transcode-clip reads its rendition's size and duration from the MP4 header instead of ffprobe. */
let dir: string;
let source: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-mp4-header-'));
  source = await videoWithoutAudio({ durationS: 6 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Streams {
  streams: Array<{ width: number; height: number; duration: string }>;
}

async function encode(name: string, args: string[]): Promise<string> {
  const out = join(dir, name);
  await ffmpeg(['-ss', '1.3', '-i', source, '-t', '3.1', ...args, out]);
  return out;
}

describe('readMp4VideoTrack', () => {
  it.each([
    ['a transcode-clip rendition (B-frames, edit list, AAC)', ['-f', 'lavfi', '-i', 'anullsrc=r=48000']],
    ['a portrait, odd-sized frame', ['-vf', 'scale=202:358']],
    ['another track timescale', ['-video_track_timescale', '1000000']],
  ])('says what ffprobe says for %s', async (_name, extra) => {
    const mp4 = await encode(`clip-${extra.length}-${extra[1]!.length}.mp4`, [
      ...extra,
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30'],
      ...['-movflags', '+faststart', '-f', 'mp4'],
    ]);
    const probed = (await ffprobeJson<Streams>(mp4, ['-select_streams', 'v:0', '-show_streams'])).streams[0]!;
    const read = await readMp4VideoTrack(mp4);
    expect(read).toEqual({
      width: probed.width,
      height: probed.height,
      durationS: expect.closeTo(Number(probed.duration), 5),
    });
  });

  it('is undefined when the header is not at the front, or there is no video, or it is no MP4', async () => {
    const late = await encode('late-moov.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mp4']);
    expect(await readMp4VideoTrack(late)).toBeUndefined();
    const audio = join(dir, 'audio.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', '-movflags', '+faststart', audio]);
    expect(await readMp4VideoTrack(audio)).toBeUndefined();
    const text = join(dir, 'text.mp4');
    await writeFile(text, 'not a video at all, just some words');
    expect(await readMp4VideoTrack(text)).toBeUndefined();
    const empty = join(dir, 'empty.mp4');
    await writeFile(empty, '');
    expect(await readMp4VideoTrack(empty)).toBeUndefined();
  });
});
