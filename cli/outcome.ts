import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { FinalResult } from '../common/contracts/final.js';
import type { RequestState } from '../common/contracts/state.js';
import { type Context, writeLines } from './command.js';
import { EXIT } from './errors.js';
import type { Followed } from './follow.js';
import { shownPath } from './paths.js';
import { paintStatus, resultLines } from './print.js';
import { renderReport } from './report.js';
import { collectMedia } from './report-media.js';

export interface OutcomeFlags {
  json: boolean;
  /** Where to write the HTML report; false: none. Default <data>/reports/<id>.html. */
  report: string | false | undefined;
}

/** The options of the verbs that follow a request to its end (run, watch, resume). */
export const OUTCOME_OPTIONS = {
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  'no-report': { type: 'boolean' },
} as const;

export function outcomeFlags(values: {
  json?: boolean;
  output?: string;
  'no-report'?: boolean;
}): OutcomeFlags {
  return { json: values.json === true, report: values['no-report'] ? false : values.output };
}

/**
 * The end of run / watch / resume: the result on stdout (exactly final.json
 * with --json, else the ranked matches), the report written, and the exit code.
 */
export async function finishFollowed(ctx: Context, followed: Followed, flags: OutcomeFlags): Promise<number> {
  const { io, style } = ctx;
  const { state, final, finalText } = followed;
  let reportPath: string | undefined;
  if (final && flags.report !== false) reportPath = await writeReport(ctx, final, state, flags.report);
  if (flags.json) {
    if (finalText !== undefined) io.out.write(finalText.endsWith('\n') ? finalText : `${finalText}\n`);
    else io.err.write(`${state.request_id} ended ${state.status} without a final.json\n`);
  } else if (final) {
    writeLines(io.out, resultLines(final, state, style, ctx.showKey));
  } else {
    writeLines(io.out, [
      `${state.request_id} ${paintStatus(state.status, style)}${state.error ? `: ${state.error.code} — ${state.error.message}` : ''}`,
    ]);
  }
  if (reportPath) (flags.json ? io.err : io.out).write(`report: ${shownPath(io.cwd, reportPath)}\n`);
  return state.status === 'SUCCEEDED' ? EXIT.OK : EXIT.FAILED;
}

export function defaultReportPath(ctx: Context, requestId: string): string {
  return join(ctx.settings.dataDir, 'reports', `${requestId}.html`);
}

/** Renders the request's report into `path` (default <data>/reports/<id>.html); returns the absolute path. */
export async function writeReport(
  ctx: Context,
  final: FinalResult,
  state: RequestState | undefined,
  path: string | undefined,
  options: { link?: boolean } = {},
): Promise<string> {
  const target = path ? resolve(ctx.io.cwd, path) : defaultReportPath(ctx, final.request_id);
  const media = await collectMedia(ctx.store, final, options);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, renderReport(final, state, media));
  return target;
}
