import { NotFoundError } from '../../common/errors.js';
import { requestKeys } from '../../common/keys.js';
import { isTerminal } from '../../common/state/lifecycle.js';
import { defineCommand, makeContext, requestArg, writeLines } from '../command.js';
import { EXIT } from '../errors.js';
import { readFinal, tryReadState } from '../follow.js';
import { resultLines, statusLines } from '../print.js';
import { requestNotFound } from '../requests.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek status <id|last> [--json]

Where a request is, from its state.json in the store: status, every stage's
done/total, failed tasks and their errors; the matches once it is finished.
With --json, prints state.json exactly as stored.

${COMMON_USAGE}`;

export const statusCommand = defineCommand({
  name: 'status',
  summary: "show a request's state (stages, tasks, errors, result)",
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const ctx = makeContext(values, io);
    const requestId = await requestArg(ctx, positionals);
    if (values.json) {
      try {
        io.out.write(await ctx.store.getBytes(requestKeys(requestId).state));
        return EXIT.OK;
      } catch (err) {
        if (err instanceof NotFoundError) throw requestNotFound(requestId, ctx.store.url);
        throw err;
      }
    }
    const state = await tryReadState(ctx.store, requestId);
    if (!state) throw requestNotFound(requestId, ctx.store.url);
    writeLines(io.out, statusLines(state, new Date(), ctx.style));
    if (isTerminal(state.status)) {
      const { final } = await readFinal(ctx.store, requestId);
      if (final) writeLines(io.out, ['', ...resultLines(final, state, ctx.style, ctx.showKey)]);
    }
    return EXIT.OK;
  },
});
