import { randomBytes } from 'node:crypto';
import { SubmitRequest } from '../../common/contracts/request.js';
import { PROFILE_NAMES } from '../../common/profiles.js';
import { checkRepeat, requestDigest } from '../../common/request-digest.js';
import { type Context, defineCommand, makeContext, onePositional } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { follow } from '../follow.js';
import { finishFollowed, OUTCOME_OPTIONS, outcomeFlags } from '../outcome.js';
import { ProgressView } from '../progress.js';
import { COMMON_USAGE } from '../settings.js';
import { resolveSource, uploadSource } from '../upload.js';
import { stopWatchingOnInterrupt } from './interrupt.js';

const USAGE = `usage: clipseek run <file-or-uri> --query "…" [options]

Finds the clips of a video that answer a query. A local file is uploaded to the
store first; store://key, s3://bucket/key and http(s):// URIs are passed on.
Shows live progress on stderr, then prints the ranked matches and writes the
HTML report.

options:
  -q, --query TEXT      what to look for, e.g. "find the motorbike" (required)
  -p, --profile NAME    ${PROFILE_NAMES.join(' | ')} (default: default)
      --overrides JSON  profile overrides, e.g. '{"frames":{"fps":2}}'
      --id ID           the request id (default: a new one); the same id never runs twice,
                        and is refused for another video, query or option
      --json            print exactly final.json on stdout, nothing else
      --async           submit and print the request id at once (follow with clipseek watch)
      --callback URL    POST the signed result there when done
  -o, --output FILE     where to write the HTML report (default: <data>/reports/<id>.html)
      --no-report       do not write the report

exit status: 0 when the request SUCCEEDED, 1 when it did not, 2 on a usage error.

${COMMON_USAGE}`;

export const runCommand = defineCommand({
  name: 'run',
  summary: 'find the clips of a video that answer a query (uploads, submits, shows progress)',
  usage: USAGE,
  options: {
    query: { type: 'string', short: 'q' },
    profile: { type: 'string', short: 'p' },
    overrides: { type: 'string' },
    id: { type: 'string' },
    async: { type: 'boolean' },
    callback: { type: 'string' },
    ...OUTCOME_OPTIONS,
  },
  async run({ values, positionals }, io) {
    const input = onePositional(positionals, 'video file or URI');
    if (!values.query) throw new UsageError('--query is required');
    const ctx = makeContext(values, io);
    const requestId = values.id ?? newRequestId();
    const fields = submitFields(requestId, values);
    const view = new ProgressView(io.err);

    view.update({ requestId, phase: `uploading ${input}…`, elapsedMs: 0 });
    const source = await resolveSource(input, io.cwd);
    const body: SubmitRequest = { ...fields, video_uri: source.videoUri };
    // A reused --id must name this very request (the orchestrator refuses it otherwise):
    // found out before another file is uploaded for nothing.
    if (values.id) await checkRepeat(ctx.store, requestId, requestDigest(body), 'request_id');
    await uploadSource(ctx.store, source);

    if (values.async) return submitAsync(ctx, body, values.json === true);

    stopWatchingOnInterrupt(io, requestId);
    const followed = await follow({
      store: ctx.store,
      requestId,
      call: ctx.client.call(body),
      revive: () => ctx.client.call({ resume: requestId }),
      view,
      phase: 'submitted; waiting for the orchestrator…',
    });
    return finishFollowed(ctx, followed, outcomeFlags(values));
  },
});

async function submitAsync(ctx: Context, body: SubmitRequest, json: boolean): Promise<number> {
  const callId = await ctx.client.callAsync(body);
  const id = body.request_id!;
  if (json) ctx.io.out.write(`${JSON.stringify({ request_id: id, call_id: callId })}\n`);
  else ctx.io.out.write(`${id}\n`);
  ctx.io.err.write(`submitted ${id}: follow it with \`clipseek watch ${id}\`\n`);
  return EXIT.OK;
}

/** Everything but the video, checked before any upload: a bad --profile or --overrides is a usage error. */
const SubmitFields = SubmitRequest.omit({ video_uri: true });

function submitFields(
  requestId: string,
  values: { query?: string; profile?: string; overrides?: string; callback?: string },
): Omit<SubmitRequest, 'video_uri'> {
  let overrides: unknown;
  if (values.overrides !== undefined) {
    try {
      overrides = JSON.parse(values.overrides);
    } catch {
      throw new UsageError('--overrides must be JSON, e.g. \'{"frames":{"fps":2}}\'');
    }
  }
  const parsed = SubmitFields.safeParse({
    query: values.query,
    request_id: requestId,
    ...(values.profile ? { profile: values.profile } : {}),
    ...(overrides === undefined ? {} : { overrides }),
    ...(values.callback ? { callback_url: values.callback } : {}),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`);
    throw new UsageError(problems.join('; '));
  }
  return parsed.data;
}

/** Like the orchestrator's own ids: time-ordered, then random. */
export function newRequestId(): string {
  return `r_${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}
