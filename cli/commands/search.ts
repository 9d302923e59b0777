import { search } from '../../common/search/index.js';
import { defineCommand, makeContext, onePositional, writeLines } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { searchLines, skippedLines } from '../print-search.js';
import { COMMON_USAGE, NAMESPACE_OPTION, NAMESPACE_USAGE, namespaceFrom } from '../settings.js';

const USAGE = `usage: clipseek search "<query>" [--video V]... [--limit N] [--json]

Answers the query from every analysed video (clipseek videos lists them):
time ranges ranked across videos, each naming its video, with the same
evidence as a request's matches. Reads the video index in the store; runs
nothing.

options:
      --video V       search only this video (sha256, name or URI); may be repeated
  -n, --limit N       the best N answers (default 10)
      --json          the answer as one JSON object on stdout
${NAMESPACE_USAGE}

${COMMON_USAGE}`;

export const searchCommand = defineCommand({
  name: 'search',
  summary: 'search every analysed video',
  usage: USAGE,
  options: {
    video: { type: 'string', multiple: true },
    limit: { type: 'string', short: 'n' },
    json: { type: 'boolean' },
    ...NAMESPACE_OPTION,
  },
  async run({ values, positionals }, io) {
    const query = onePositional(positionals, 'query').trim();
    if (!query) throw new UsageError('the query is empty');
    const limit = Number(values.limit ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError('--limit must be a whole number from 1 to 1000');
    const namespace = namespaceFrom(values.namespace, io.env);
    const ctx = makeContext(values, io);
    const result = await search(ctx.store, namespace, query, {
      limit,
      ...(values.video?.length ? { videos: values.video } : {}),
    });
    writeLines(io.err, skippedLines(result.skipped));
    if (values.json) io.out.write(`${JSON.stringify(result, null, 2)}\n`);
    else writeLines(io.out, searchLines(result, ctx.style));
    return EXIT.OK;
  },
});
