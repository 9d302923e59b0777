import { type Command, makeContext, onePositional, parse } from '../command.js';
import { EXIT } from '../errors.js';
import { follow } from '../follow.js';
import { finishFollowed } from '../outcome.js';
import { ProgressView } from '../progress.js';
import { resolveRequestId } from '../requests.js';
import { COMMON_USAGE } from '../settings.js';
import { stopWatchingOnInterrupt } from './interrupt.js';

const USAGE = `usage: clipseek watch <id|last> [--json] [-o report.html] [--no-report]

Shows a request's live progress from its state.json until it finishes, then
prints the matches (or, with --json, exactly final.json) and writes the report.
Reads the store only: it works without a gateway.

exit status: 0 when the request SUCCEEDED, 1 when it did not.

${COMMON_USAGE}`;

export const watchCommand: Command = {
  name: 'watch',
  summary: "follow a request's progress until it finishes",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      json: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      'no-report': { type: 'boolean' },
    });
    if (values.help) {
      io.out.write(`${USAGE}\n`);
      return EXIT.OK;
    }
    const ctx = makeContext(values, io);
    const requestId = await resolveRequestId(ctx.store, onePositional(positionals, 'request id'));
    stopWatchingOnInterrupt(io, requestId);
    const followed = await follow({ store: ctx.store, requestId, view: new ProgressView(io.err) });
    return finishFollowed(ctx, followed, {
      json: values.json === true,
      report: values['no-report'] ? false : values.output,
    });
  },
};
