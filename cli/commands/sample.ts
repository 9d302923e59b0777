import { join, relative, resolve } from 'node:path';
import { type Command, parse } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { makeSampleVideo } from '../sample-video.js';

const USAGE = `usage: clipseek sample [-o file.mp4]

Makes the demo's sample video: a test pattern, three spoken sentences, and a
photo of a motorcycle on screen from 6 s to 11 s. Needs ffmpeg and espeak-ng;
the photo comes from Debian's python3-skimage package (downloaded, not
installed). Kept when it is already up to date.

  -o, --output FILE   where to write it (default: <data>/sample.mp4)
      --data DIR      data folder (default: $CLIPSEEK_DATA or .clipseek)`;

export const sampleCommand: Command = {
  name: 'sample',
  summary: 'make the sample video the demo searches',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { output: { type: 'string', short: 'o' } });
    if (values.help) {
      io.out.write(`${USAGE}\n`);
      return EXIT.OK;
    }
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const dataDir = resolve(io.cwd, values.data ?? (io.env.CLIPSEEK_DATA || '.clipseek'));
    const out = resolve(io.cwd, values.output ?? join(dataDir, 'sample.mp4'));
    const sample = await makeSampleVideo(out, join(dataDir, 'cache'));
    io.err.write(`${sample.reused ? 'up to date' : 'made'}: ${sample.description}\n`);
    const shown = relative(io.cwd, sample.path);
    io.out.write(`${shown.startsWith('..') ? sample.path : shown}\n`);
    return EXIT.OK;
  },
};
