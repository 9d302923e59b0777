import { type Command, defineCommand, makeContext, requestArg } from '../command.js';
import { follow, MISSING_GRACE_MS } from '../follow.js';
import { finishFollowed, OUTCOME_OPTIONS, outcomeFlags } from '../outcome.js';
import { ProgressView } from '../progress.js';
import { COMMON_USAGE } from '../settings.js';
import { stopWatchingOnInterrupt } from './interrupt.js';

const USAGE = `usage: clipseek watch <id|last> [--json] [-o report.html] [--no-report]

Shows a request's live progress from its state.json until it finishes, then
prints the matches (or, with --json, exactly final.json) and writes the report.
Reads the store only: it works without a gateway. An id whose state.json has
not appeared within ${MISSING_GRACE_MS / 1000} s ends with REQUEST_NOT_FOUND.

exit status: 0 when the request SUCCEEDED, 1 when it did not.

${COMMON_USAGE}`;

/** `missingGraceMs`: how long an id without state.json is waited for (see FollowOptions); tests shorten it. */
export function makeWatchCommand(deps: { missingGraceMs?: number } = {}): Command {
  return defineCommand({
    name: 'watch',
    summary: "follow a request's progress until it finishes",
    usage: USAGE,
    options: OUTCOME_OPTIONS,
    async run({ values, positionals }, io) {
      const ctx = makeContext(values, io);
      const requestId = await requestArg(ctx, positionals);
      stopWatchingOnInterrupt(io, requestId);
      const followed = await follow({
        store: ctx.store,
        requestId,
        view: new ProgressView(io.err),
        missingGraceMs: deps.missingGraceMs,
      });
      return finishFollowed(ctx, followed, outcomeFlags(values));
    },
  });
}

export const watchCommand = makeWatchCommand();
