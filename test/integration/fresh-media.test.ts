import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taggedCopy } from '../helpers/fresh-media.js';
import { ffprobeJson, h264BFramesAvi, videoWithoutAudio } from '../helpers/media.js';

/** The benches' "new video": another sha256, and the same media for ffprobe, packet by packet. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipseek-fresh-media-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function packets(path: string): Promise<unknown> {
  return ffprobeJson(path, [
    ...['-show_entries', 'packet=stream_index,pts,dts,size,flags:format=duration,nb_streams'],
    '-show_packets',
  ]);
}

describe('taggedCopy', () => {
  it.each([
    ['an MP4', () => videoWithoutAudio({ durationS: 3 }), 'mp4'],
    ['an AVI', h264BFramesAvi, 'avi'],
  ])('makes %s with another sha256 and the same packets', async (_name, make, ext) => {
    const original = await readFile(await make());
    const a = taggedCopy(original, 'one');
    const b = taggedCopy(original, 'two');
    expect(new Set([sha256(original), sha256(a), sha256(b)]).size).toBe(3);
    await writeFile(join(dir, `a.${ext}`), a);
    await writeFile(join(dir, `o.${ext}`), original);
    expect(await packets(join(dir, `a.${ext}`))).toEqual(await packets(join(dir, `o.${ext}`)));
  });

  it('refuses what it cannot tag without changing the media', () => {
    expect(() => taggedCopy(Buffer.from('not a video at all'), 'x')).toThrow(/MP4\/MOV or AVI/);
  });
});
