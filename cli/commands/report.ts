import { ClipseekError } from '../../common/errors.js';
import { type Command, makeContext, onePositional, parse } from '../command.js';
import { EXIT } from '../errors.js';
import { readFinal, tryReadState } from '../follow.js';
import { writeReport } from '../outcome.js';
import { resolveRequestId } from '../requests.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek report <id|last> [-o file.html] [--link]

Writes one self-contained HTML page for a finished request: the source
timeline with its clips, each match with thumbnail, time range, the labels and
words that matched, its clip playable in the page, and per-stage timings.

options:
  -o, --output FILE   where to write it (default: <data>/reports/<id>.html)
      --link          link the media (file:// or presigned URLs) instead of embedding them

${COMMON_USAGE}`;

export const reportCommand: Command = {
  name: 'report',
  summary: 'write the HTML report of a finished request',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      output: { type: 'string', short: 'o' },
      link: { type: 'boolean' },
    });
    if (values.help) {
      io.out.write(`${USAGE}\n`);
      return EXIT.OK;
    }
    const ctx = makeContext(values, io);
    const requestId = await resolveRequestId(ctx.store, onePositional(positionals, 'request id'));
    const state = await tryReadState(ctx.store, requestId);
    const { final } = await readFinal(ctx.store, requestId);
    if (!final) {
      throw new ClipseekError(
        'NOT_FINISHED',
        state
          ? `${requestId} has no result yet (${state.status}): clipseek watch ${requestId}`
          : `no request ${requestId} in ${ctx.store.url}`,
        { status: 404 },
      );
    }
    const path = await writeReport(ctx, final, state, values.output, { link: values.link === true });
    io.out.write(`${path}\n`);
    return EXIT.OK;
  },
};
