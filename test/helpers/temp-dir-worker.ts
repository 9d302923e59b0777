// A child process for the temp-dir tests (run with `node --import tsx`): makes
// one temp dir with the real ffmpeg runner in the folder given, writes a file
// into it as a cut would, prints the dir and waits until it is killed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFfmpegRunner } from '../../common/ffmpeg/runner.js';

const [root] = process.argv.slice(2);
if (!root) throw new Error('usage: temp-dir-worker <folder>');
await createFfmpegRunner({ env: {}, tmpDir: root }).withTempDir(async (dir) => {
  await writeFile(join(dir, 'piece-0000.mkv'), Buffer.alloc(1 << 20));
  console.log(dir);
  await new Promise(() => setInterval(() => undefined, 60_000));
});
