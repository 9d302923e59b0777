import type { ListedRequest, RequestPage } from '../../common/contracts/request.js';
import { InputError } from '../../common/errors.js';
import {
  type CheckedListQuery,
  checkListQuery,
  LIST_LIMIT,
  listRequests,
} from '../../common/state/request-list.js';
import { defineCommand, makeContext, noPositionals, writeLines } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { listLines } from '../print.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek ls [--limit N] [--after CURSOR] [--status STATUS] [--all] [--json]

The requests in the store, newest first: id, status, when, clips, matches,
source, query. When more follow, the last line says how many and the --after
that lists them.

options:
  -n, --limit N        show N (default ${LIST_LIMIT.default})
      --after CURSOR   go on after an earlier listing (the cursor its last line names)
      --status STATUS  only requests in this status: INIT, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED
      --all            show every request
      --json           {"requests": [...], "next_cursor": …, "remaining": N} on stdout

${COMMON_USAGE}`;

export const lsCommand = defineCommand({
  name: 'ls',
  summary: 'list requests, newest first',
  usage: USAGE,
  options: {
    limit: { type: 'string', short: 'n' },
    after: { type: 'string' },
    status: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    noPositionals(positionals);
    const limit = values.all ? Number.POSITIVE_INFINITY : Number(values.limit ?? LIST_LIMIT.default);
    if (!(Number.isInteger(limit) || limit === Number.POSITIVE_INFINITY) || limit < 1) {
      throw new UsageError('--limit must be a whole number of at least 1');
    }
    const ctx = makeContext(values, io);
    const page = await listPages(
      ctx.store,
      limit,
      usageChecked({ cursor: values.after, status: values.status }),
    );
    if (values.json) io.out.write(`${JSON.stringify(page, null, 2)}\n`);
    else writeLines(io.out, [...listLines(page.requests, ctx.style), ...moreHint(page, values.status)]);
    return EXIT.OK;
  },
});

/** The listing's own checks, as the CLI's usage errors (exit 2). */
function usageChecked(flags: { cursor?: string | undefined; status?: string | undefined }): CheckedListQuery {
  try {
    return checkListQuery({
      ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }),
      ...(flags.status === undefined ? {} : { status: flags.status }),
    });
  } catch (err) {
    if (err instanceof InputError)
      throw new UsageError(`${err.code}: --${err.message.replace(/^cursor/, 'after')}`);
    throw err;
  }
}

/** Pages of the shared listing until `limit` rows (more than one page holds) or the end. */
async function listPages(
  store: Parameters<typeof listRequests>[0],
  limit: number,
  query: CheckedListQuery,
): Promise<RequestPage> {
  const requests: ListedRequest[] = [];
  let after = query.after;
  for (;;) {
    const page = await listRequests(store, {
      ...query,
      after,
      limit: Math.min(LIST_LIMIT.max, limit - requests.length),
    });
    requests.push(...page.requests);
    if (page.next_cursor === null || requests.length >= limit) return { ...page, requests };
    after = checkListQuery({ cursor: page.next_cursor }).after;
  }
}

function moreHint(page: RequestPage, status: string | undefined): string[] {
  if (page.next_cursor === null) return [];
  const flags = `${status ? ` --status ${status}` : ''} --after ${page.next_cursor}`;
  return status
    ? [`${page.remaining} more to look through for ${status}: clipseek ls${flags}`]
    : [`${page.remaining} more: clipseek ls${flags}`];
}
