import { removeRequest } from '../../common/retention/remove-request.js';
import { defineCommand, makeContext, requestArg, writeLines } from '../command.js';
import { EXIT } from '../errors.js';
import { rmLines } from '../print-retention.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek rm <id|last> [--json]

Deletes a finished request's own objects: requests/<id>/ (state.json,
final.json, its source record) and its index markers. Never deletes shared
stage results or video index documents, which other requests and search may
use: clipseek gc deletes those once nothing references them. A request that
has not finished is refused (REQUEST_RUNNING): cancel it first.

options:
      --json   {"request_id": …, "deleted": {"objects": N, "bytes": N}} on stdout

${COMMON_USAGE}`;

export const rmCommand = defineCommand({
  name: 'rm',
  summary: 'delete a finished request (not the results it shares)',
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const ctx = makeContext(values, io);
    const report = await removeRequest(ctx.store, await requestArg(ctx, positionals));
    if (values.json) io.out.write(`${JSON.stringify(report, null, 2)}\n`);
    else writeLines(io.out, rmLines(report));
    return EXIT.OK;
  },
});
