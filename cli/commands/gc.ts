import { DEFAULT_GC_AGE, GcOptions } from '../../common/contracts/retention.js';
import { collectGarbage, DEFAULT_SETTLE_MS, type GcProgress } from '../../common/retention/gc.js';
import { defineCommand, makeContext, noPositionals, writeLines } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { gcLines, gcProgressLine } from '../print-retention.js';
import { COMMON_USAGE } from '../settings.js';

const USAGE = `usage: clipseek gc [--older-than AGE] [--dry-run] [--json]

Deletes the shared stage results nothing uses: no request's state.json names
them, no video index document was built from them, no task is running in them,
and nothing in them was written for AGE. Also deletes what finished requests
left in their input/. Reads every request and index document first; when one
cannot be read, deletes nothing (GC_REFUSED). Progress goes to stderr.

options:
      --older-than AGE  e.g. 30d, 12h, 90m (default ${DEFAULT_GC_AGE})
      --dry-run         report what would be deleted; delete nothing
      --json            the report as JSON on stdout

${COMMON_USAGE}`;

export const gcCommand = defineCommand({
  name: 'gc',
  summary: 'delete stage results nothing references',
  usage: USAGE,
  options: { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    noPositionals(positionals);
    const parsed = GcOptions.safeParse({
      older_than: values['older-than'] ?? DEFAULT_GC_AGE,
      dry_run: values['dry-run'] === true,
    });
    if (!parsed.success) throw new UsageError(`--older-than: ${parsed.error.issues[0]?.message}`);
    const ctx = makeContext(values, io);
    const settle = Number(io.env.CLIPSEEK_GC_SETTLE_MS ?? DEFAULT_SETTLE_MS);
    const report = await collectGarbage(parsed.data, {
      store: ctx.store,
      now: () => new Date(),
      settleMs: Number.isFinite(settle) && settle >= 0 ? settle : DEFAULT_SETTLE_MS,
      onProgress: progressWriter(io.err),
    });
    if (values.json) io.out.write(`${JSON.stringify(report, null, 2)}\n`);
    else writeLines(io.out, gcLines(report));
    return EXIT.OK;
  },
});

/** Redrawn in place on a TTY; otherwise a line per phase (and a last one with the totals). */
function progressWriter(err: NodeJS.WritableStream & { isTTY?: boolean }) {
  let phase = '';
  return (p: GcProgress) => {
    if (err.isTTY) {
      err.write(`\r\x1b[2K${gcProgressLine(p)}${p.phase === 'done' ? '\n' : ''}`);
      return;
    }
    if (p.phase === phase) return;
    phase = p.phase;
    err.write(`${gcProgressLine(p)}\n`);
  };
}
