import { defineCommand, makeContext, requestArg } from '../command.js';
import { follow } from '../follow.js';
import { finishFollowed, OUTCOME_OPTIONS, outcomeFlags } from '../outcome.js';
import { ProgressView } from '../progress.js';
import { COMMON_USAGE } from '../settings.js';
import { stopWatchingOnInterrupt } from './interrupt.js';

const USAGE = `usage: clipseek watch <id|last> [--json] [-o report.html] [--no-report]

Shows a request's live progress from its state.json until it finishes, then
prints the matches (or, with --json, exactly final.json) and writes the report.
Reads the store only: it works without a gateway.

exit status: 0 when the request SUCCEEDED, 1 when it did not.

${COMMON_USAGE}`;

export const watchCommand = defineCommand({
  name: 'watch',
  summary: "follow a request's progress until it finishes",
  usage: USAGE,
  options: OUTCOME_OPTIONS,
  async run({ values, positionals }, io) {
    const ctx = makeContext(values, io);
    const requestId = await requestArg(ctx, positionals);
    stopWatchingOnInterrupt(io, requestId);
    const followed = await follow({ store: ctx.store, requestId, view: new ProgressView(io.err) });
    return finishFollowed(ctx, followed, outcomeFlags(values));
  },
});
