import { eachVideo } from '../../common/search/index.js';
import { defineCommand, makeContext, noPositionals, writeLines } from '../command.js';
import { EXIT } from '../errors.js';
import { skippedLines, type VideoRow, videoLines, videoRow } from '../print-search.js';
import { COMMON_USAGE, NAMESPACE_OPTION, NAMESPACE_USAGE, namespaceFrom } from '../settings.js';

const USAGE = `usage: clipseek videos [--json]

The analysed videos clipseek search answers from, newest first: name,
duration, profile, when, clips, coverage, the bytes its source and results
hold in the bucket, and its sha256. A video analysed more than once shows the
analysis search uses (the best coverage, then the newest).

options:
      --json          one JSON array on stdout
${NAMESPACE_USAGE}

${COMMON_USAGE}`;

export const videosCommand = defineCommand({
  name: 'videos',
  summary: 'list the analysed videos',
  usage: USAGE,
  options: { json: { type: 'boolean' }, ...NAMESPACE_OPTION },
  async run({ values, positionals }, io) {
    noPositionals(positionals);
    const namespace = namespaceFrom(values.namespace, io.env);
    const ctx = makeContext(values, io);
    const rows: VideoRow[] = [];
    const skipped = await eachVideo(ctx.store, namespace, {}, (video) => {
      rows.push(videoRow(video));
    });
    rows.sort((a, b) => b.analysed_at.localeCompare(a.analysed_at) || a.sha256.localeCompare(b.sha256));
    writeLines(io.err, skippedLines(skipped));
    if (values.json) io.out.write(`${JSON.stringify(rows, null, 2)}\n`);
    else writeLines(io.out, videoLines(rows, ctx.style));
    return EXIT.OK;
  },
});
