import { defineCommand, makeContext, requestArg } from '../command.js';
import { EXIT } from '../errors.js';
import { follow } from '../follow.js';
import { finishFollowed, OUTCOME_OPTIONS, outcomeFlags } from '../outcome.js';
import { ProgressView } from '../progress.js';
import { COMMON_USAGE } from '../settings.js';
import { stopWatchingOnInterrupt } from './interrupt.js';

const USAGE = `usage: clipseek resume <id|last> [--async] [--json] [-o report.html] [--no-report]

Continues an unfinished request from its state.json (after a crash, a killed
stack, an expired lease): finished tasks are not run again. A request that
another orchestrator is still driving is only followed. Then like run.

options:
      --async       ask for the resume and return at once
      --json        print exactly final.json on stdout
  -o, --output FILE where to write the HTML report
      --no-report   do not write the report

${COMMON_USAGE}`;

export const resumeCommand = defineCommand({
  name: 'resume',
  summary: 'continue an unfinished request where it stopped',
  usage: USAGE,
  options: { async: { type: 'boolean' }, ...OUTCOME_OPTIONS },
  async run({ values, positionals }, io) {
    const ctx = makeContext(values, io);
    const requestId = await requestArg(ctx, positionals);
    if (values.async) {
      await ctx.client.callAsync({ resume: requestId });
      io.err.write(`resuming ${requestId}: follow it with \`clipseek watch ${requestId}\`\n`);
      return EXIT.OK;
    }
    stopWatchingOnInterrupt(io, requestId);
    const followed = await follow({
      store: ctx.store,
      requestId,
      call: ctx.client.call({ resume: requestId }),
      revive: () => ctx.client.call({ resume: requestId }),
      view: new ProgressView(io.err),
    });
    return finishFollowed(ctx, followed, outcomeFlags(values));
  },
});
