import { ClipseekError } from '../../common/errors.js';
import { defineCommand, makeContext, requestArg } from '../command.js';
import { EXIT } from '../errors.js';
import { readFinal, tryReadState } from '../follow.js';
import { writeReport } from '../outcome.js';
import { requestNotFound } from '../requests.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek report <id|last> [-o file.html] [--link]

Writes one self-contained HTML page for a finished request: the source
timeline with its clips, each match with thumbnail, time range, the labels and
words that matched, its clip playable in the page, and per-stage timings.

options:
  -o, --output FILE   where to write it (default: <data>/reports/<id>.html)
      --link          link the media (file:// or presigned URLs) instead of embedding them

${COMMON_USAGE}`;

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'write the HTML report of a finished request',
  usage: USAGE,
  options: { output: { type: 'string', short: 'o' }, link: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const ctx = makeContext(values, io);
    const requestId = await requestArg(ctx, positionals);
    const state = await tryReadState(ctx.store, requestId);
    const { final } = await readFinal(ctx.store, requestId);
    if (!final) {
      if (!state) throw requestNotFound(requestId, ctx.store.url);
      throw new ClipseekError(
        'NOT_FINISHED',
        `${requestId} has no result yet (${state.status}): clipseek watch ${requestId}`,
        { status: 404 },
      );
    }
    const path = await writeReport(ctx, final, state, values.output, { link: values.link === true });
    io.out.write(`${path}\n`);
    return EXIT.OK;
  },
});
