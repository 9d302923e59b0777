import { FinalResult } from '../../common/contracts/final.js';
import type { RequestState } from '../../common/contracts/state.js';
import { CorruptDataError, NotFoundError, StateCorruptError } from '../../common/errors.js';
import { requestKeys } from '../../common/keys.js';
import type { ObjectStore } from '../../common/storage/types.js';
import { defineCommand, makeContext, noPositionals, writeLines } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { tryReadState } from '../follow.js';
import { type ListedRequest, listLines } from '../print.js';
import { type IndexedRequest, listRequests } from '../requests.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek ls [--limit N] [--all] [--json]

The requests in the store, newest first: id, status, when, clips, matches, query.

options:
  -n, --limit N   show the newest N (default 20)
      --all       show every request
      --json      one JSON array on stdout

${COMMON_USAGE}`;

export const lsCommand = defineCommand({
  name: 'ls',
  summary: 'list requests, newest first',
  usage: USAGE,
  options: { limit: { type: 'string', short: 'n' }, all: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    noPositionals(positionals);
    const limit = values.all ? Number.POSITIVE_INFINITY : Number(values.limit ?? 20);
    if (!(limit >= 1)) throw new UsageError('--limit must be a positive number');
    const ctx = makeContext(values, io);
    const newest = (await listRequests(ctx.store)).slice(0, limit);
    const rows: ListedRequest[] = [];
    // A few at a time: each row reads state.json (and final.json when finished).
    for (let i = 0; i < newest.length; i += 8) {
      rows.push(...(await Promise.all(newest.slice(i, i + 8).map((r) => describe(ctx.store, r)))));
    }
    if (values.json) io.out.write(`${JSON.stringify(rows, null, 2)}\n`);
    else writeLines(io.out, listLines(rows, ctx.style));
    return EXIT.OK;
  },
});

/** A row for `ls`: one unreadable request shows as CORRUPT beside the rest, never ends the listing. */
async function describe(store: ObjectStore, row: IndexedRequest): Promise<ListedRequest> {
  let state: RequestState | undefined;
  try {
    state = await tryReadState(store, row.request_id);
  } catch (err) {
    if (!(err instanceof StateCorruptError)) throw err;
    return { ...row, status: 'CORRUPT', clips: null, matches: undefined, error: err.code };
  }
  let matches: number | undefined;
  if (state?.status === 'SUCCEEDED') {
    try {
      const { value } = await store.getJson(requestKeys(row.request_id).final);
      matches = FinalResult.safeParse(value).data?.matches.length;
    } catch (err) {
      if (!(err instanceof NotFoundError) && !(err instanceof CorruptDataError)) throw err;
    }
  }
  return {
    ...row,
    status: state?.status ?? 'UNKNOWN',
    clips: state?.clips ?? null,
    matches,
  };
}
