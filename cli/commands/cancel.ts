import { isTerminal } from '../../common/state/lifecycle.js';
import { defineCommand, makeContext, requestArg, writeLines } from '../command.js';
import { EXIT } from '../errors.js';
import { follow, tryReadState } from '../follow.js';
import { paintStatus } from '../print.js';
import { ProgressView } from '../progress.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek cancel <id|last> [--no-wait] [--json]

Asks the orchestrator to cancel a request. Running stage calls finish, nothing
new starts; the request ends CANCELLED. Waits until it has, unless --no-wait.

options:
      --no-wait   return once the cancel is recorded
      --json      print the request's state.json at the end

exit status: 0 when the request is (or is being) cancelled, 1 when it had
already finished otherwise.

${COMMON_USAGE}`;

export const cancelCommand = defineCommand({
  name: 'cancel',
  summary: 'cancel a request',
  usage: USAGE,
  options: { 'no-wait': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const ctx = makeContext(values, io);
    const requestId = await requestArg(ctx, positionals);
    const before = await tryReadState(ctx.store, requestId);
    const answer = await ctx.client.call({ cancel: requestId });
    if (answer.kind === 'error') throw answer.error;
    const state = values['no-wait']
      ? await tryReadState(ctx.store, requestId)
      : (await follow({ store: ctx.store, requestId, view: new ProgressView(io.err) })).state;
    if (!state) throw new Error(`${requestId} has no state.json in ${ctx.store.url}`);
    const wasDone = before !== undefined && isTerminal(before.status);
    if (values.json) io.out.write(`${JSON.stringify(state, null, 2)}\n`);
    else if (wasDone)
      writeLines(io.out, [`${requestId} had already finished: ${paintStatus(state.status, ctx.style)}`]);
    else
      writeLines(io.out, [
        `${requestId} ${state.status === 'CANCELLED' ? paintStatus('CANCELLED', ctx.style) : `${state.status}, cancel requested`}`,
      ]);
    return state.status === 'CANCELLED' || (!wasDone && state.cancel_requested) ? EXIT.OK : EXIT.FAILED;
  },
});
