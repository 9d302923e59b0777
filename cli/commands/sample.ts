import { join, resolve } from 'node:path';
import { defineCommand, noPositionals } from '../command.js';
import { EXIT } from '../errors.js';
import { shownPath } from '../paths.js';
import { makeSampleVideo } from '../sample-video.js';
import { dataDirFrom } from '../settings.js';

const USAGE = `usage: clipseek sample [-o file.mp4]

Makes the demo's sample video: a test pattern, three spoken sentences, and a
photo of a motorcycle on screen from 6 s to 11 s. Needs ffmpeg and espeak-ng;
the photo comes from Debian's python3-skimage package (downloaded, not
installed). Kept when it is already up to date.

  -o, --output FILE   where to write it (default: <data>/sample.mp4)
      --data DIR      data folder (default: $CLIPSEEK_DATA, else the nearest
                      .clipseek/ here or in a parent folder, else ./.clipseek)`;

export const sampleCommand = defineCommand({
  name: 'sample',
  summary: 'make the sample video the demo searches',
  usage: USAGE,
  options: { output: { type: 'string', short: 'o' } },
  async run({ values, positionals }, io) {
    noPositionals(positionals);
    const dataDir = dataDirFrom(values.data, io.env, io.cwd);
    const out = resolve(io.cwd, values.output ?? join(dataDir, 'sample.mp4'));
    const sample = await makeSampleVideo(out, join(dataDir, 'cache'));
    io.err.write(`${sample.reused ? 'up to date' : 'made'}: ${sample.description}\n`);
    io.out.write(`${shownPath(io.cwd, sample.path)}\n`);
    return EXIT.OK;
  },
});
