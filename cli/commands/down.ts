import { setTimeout as delay } from 'node:timers/promises';
import { ClipseekError } from '../../common/errors.js';
import { defineCommand, noPositionals } from '../command.js';
import { EXIT } from '../errors.js';
import { processAlive, readRunningStack } from '../local-stack.js';
import { dataDirFrom } from '../settings.js';

const USAGE = `usage: clipseek down [--data .clipseek]

Stops the stack \`clipseek up\` runs on the data folder (as Ctrl-C would): every
function process ends, requests in flight keep their state and can be resumed.

  --data DIR   data folder (default: $CLIPSEEK_DATA, else the nearest
               .clipseek/ here or in a parent folder, else ./.clipseek)`;

export const downCommand = defineCommand({
  name: 'down',
  summary: 'stop the local stack started with up --detach',
  usage: USAGE,
  options: {},
  async run({ values, positionals }, io) {
    noPositionals(positionals);
    const dataDir = dataDirFrom(values.data, io.env, io.cwd);
    const running = readRunningStack(dataDir);
    if (!running) {
      io.out.write(`no stack is running on ${dataDir}\n`);
      return EXIT.OK;
    }
    process.kill(running.pid, 'SIGTERM');
    // The gateway gives each function up to 10 s to finish what it is doing.
    const deadline = Date.now() + 30_000;
    while (processAlive(running.pid)) {
      if (Date.now() > deadline) {
        throw new ClipseekError('DOWN_TIMEOUT', `pid ${running.pid} did not stop within 30 s`);
      }
      await delay(100);
    }
    io.out.write(`stopped the stack on ${dataDir} (pid ${running.pid})\n`);
    return EXIT.OK;
  },
});
