import type { FinalResult, Match } from '../common/contracts/final.js';
import type { ListedRequest } from '../common/contracts/request.js';
import type { RequestState } from '../common/contracts/state.js';
import {
  clipProgress,
  elapsedOf,
  formatElapsed,
  isStalled,
  sourceWaitNote,
  stageRows,
  stageTaskTimes,
  stallNote,
} from './progress.js';
import { fmtTime } from './report.js';
import type { Style } from './style.js';

/**
 * Human-readable output: the ranked matches of a result, a request's status,
 * the request list. Each returns lines; the caller writes them to stdout.
 */
/** How the output names an object: a path the user can open for the folder store, else its key. */
export type ShowKey = (key: string) => string;

export function resultLines(
  final: FinalResult,
  state: RequestState | undefined,
  style: Style,
  showKey: ShowKey = (key) => key,
): string[] {
  const took = formatElapsed(final.metrics.wall_ms);
  const n = final.matches.length;
  const head =
    final.status === 'SUCCEEDED'
      ? style.good(`✓ ${final.status}`)
      : style.bad(`✗ ${final.status}${final.error ? `: ${final.error.code} — ${final.error.message}` : ''}`);
  const answer = final.answerable ? `${n} match${n === 1 ? '' : 'es'}` : 'cannot be answered';
  const lines = [
    `${head} in ${took} · ${final.clips} clip${final.clips === 1 ? '' : 's'} · ${answer} for "${final.query}"`,
    `  looking for: ${sought(final.understood)}`,
    ...speechOnlyLines(final, style),
    ...stderrTailLines(final.error?.details, style),
  ];
  if (final.coverage) lines.push(`  analysed: ${coverageText(final.coverage)}`);
  if (final.understood.note) lines.push(`  ${style.dim(final.understood.note)}`);
  if (final.note) lines.push(`  ${style.bad(final.note)}`);
  final.matches.forEach((m, i) => {
    lines.push(...matchLines(m, i + 1, style, showKey));
  });
  for (const f of final.failed_clips) {
    lines.push(style.bad(`  clip ${f.clip} failed: ${f.error.code} — ${f.error.message}`));
    lines.push(...stderrTailLines(f.error.details, style));
  }
  if (state && final.status !== 'SUCCEEDED' && state.error && !final.error) {
    lines.push(style.bad(`  ${state.error.code}: ${state.error.message}`));
    lines.push(...stderrTailLines(state.error.details, style));
  }
  return lines;
}

/** What the query looks for, in a few words. */
export function sought(understood: FinalResult['understood']): string {
  const { labels, terms, phrases, unknown } = understood;
  const parts = [
    labels.length ? `objects ${labels.join(', ')}` : '',
    terms.length || phrases.length ? `words ${[...phrases.map((p) => `"${p}"`), ...terms].join(', ')}` : '',
    unknown.length ? `(not understood: ${unknown.join(', ')})` : '',
  ].filter(Boolean);
  return parts.join(' · ') || 'nothing searchable';
}

/** The words only speech can answer, and the objects near them that the detector can see. */
function speechOnlyLines(final: FinalResult, style: Style): string[] {
  const { speech_only: only, suggestions, objects } = final.understood;
  if (only.length === 0 || objects.length > 0) return [];
  const near = suggestions.map((s) => `${s.word} → ${s.labels.join(', ')}`).join('; ');
  return [
    `  ${style.dim(`the detector cannot see ${only.join(', ')}: searched only in what is said`)}`,
    ...(near ? [`  ${style.dim(`objects it can see that are near: ${near}`)}`] : []),
  ];
}

function coverageText(c: NonNullable<FinalResult['coverage']>): string {
  const share = `${fmtTime(c.analysed_s)} of ${fmtTime(c.duration_s)} (${Math.floor(c.ratio * 1000) / 10} %)`;
  const gaps = c.unanalysed.map(([a, b]) => `${fmtTime(a)}–${fmtTime(b)}`).join(', ');
  return gaps ? `${share}; not analysed: ${gaps}` : share;
}

/** How many of the last lines a failed tool wrote on stderr (an ffmpeg error's stderr_tail) are shown. */
const STDERR_LINES = 5;

/** The last lines of `details.stderr_tail`, what ffmpeg said before it failed; none without one. */
export function stderrTailLines(details: Record<string, unknown> | undefined, style?: Style): string[] {
  const tail = details?.stderr_tail;
  if (typeof tail !== 'string') return [];
  // ffmpeg ends its progress lines with \r.
  const lines = tail.split(/\r\n|\r|\n/).filter((line) => line.trim() !== '');
  return lines.slice(-STDERR_LINES).map((line) => `    ${style ? style.dim(`| ${line}`) : `| ${line}`}`);
}

/** One match, ranked; `video` names the video it is in (a search across videos). */
export function matchLines(
  m: Match,
  rank: number,
  style: Style,
  showKey: ShowKey = (key) => key,
  video?: string,
): string[] {
  const clips = m.clips.length === 1 ? `clip ${m.clips[0]}` : `clips ${m.clips[0]}–${m.clips.at(-1)}`;
  const lines = [
    `  ${style.bold(`#${rank}`)}  ${video === undefined ? '' : `${style.bold(video)}  `}${fmtTime(m.start)}–${fmtTime(m.end)}  score ${m.score.toFixed(2)}  ${style.dim(clips)}`,
  ];
  if (m.missing.length > 0)
    lines.push(`      ${style.dim(`has ${m.found.join(', ')}; not ${m.missing.join(', ')}`)}`);
  for (const l of m.why.labels) {
    const ranges = l.ranges.map(([a, b]) => `${fmtTime(a)}–${fmtTime(b)}`).join(', ');
    lines.push(`      seen   ${style.mark(l.label)} ${ranges} (best ${l.best_score.toFixed(2)})`);
  }
  if (m.why.words.length) {
    lines.push(
      `      heard  ${m.why.words.map((w) => `${style.mark(w.word)} at ${fmtTime(w.start)}`).join(', ')}`,
    );
  }
  if (m.transcript) lines.push(`      said   "${highlight(m.transcript, m, style)}"`);
  const [first, ...more] = m.video_keys;
  if (first)
    lines.push(
      `      clip   ${style.dim(showKey(first))}${more.length ? style.dim(` (+${more.length} more)`) : ''}`,
    );
  return lines;
}

function highlight(transcript: string, m: Match, style: Style): string {
  const hits = new Set(m.why.words.map((w) => w.word.toLowerCase()));
  return transcript
    .split(/(\s+)/)
    .map((tok) => (hits.has(tok.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '')) ? style.mark(tok) : tok))
    .join('');
}

/** `clipseek status`: where a request is. */
export function statusLines(state: RequestState, now: Date, style: Style): string[] {
  const lines = [
    `request   ${state.request_id}`,
    `status    ${paintStatus(state.status, style)} · ${formatElapsed(elapsedOf(state, now))} · run ${state.runs} · updated ${state.updated_at}`,
    `query     "${state.request.query}" · profile ${state.profile}`,
    `source    ${state.request.video_uri}`,
    `created   ${state.created_at}`,
  ];
  const width = Math.max(...stageRows(state).map((r) => r.stage.length));
  const times = stageTaskTimes(state);
  for (const row of stageRows(state)) {
    const total = row.total === undefined ? '?' : String(row.total);
    const count = `${row.done}/${total}`.padEnd(7);
    const t = times.get(row.stage);
    const time = t?.totalMs
      ? `${(t.totalMs / 1000).toFixed(2)} s${row.done > 1 ? ` (longest ${(t.maxMs / 1000).toFixed(2)} s)` : ''}`
      : '';
    const retries = t?.retries ? ` · ${t.retries} retr${t.retries === 1 ? 'y' : 'ies'}` : '';
    const failed = row.failed ? style.bad(` · ${row.failed} failed`) : '';
    const reused = row.reused ? ` · ${row.reused} reused` : '';
    lines.push(
      `  ${row.stage.padEnd(width)}  ${row.status.padEnd(9)} ${count} ${time}${retries}${reused}${failed}`.trimEnd(),
    );
  }
  const clips = clipProgress(state);
  if (clips.total !== undefined) lines.push(`  clips done: ${clips.done}/${clips.total}`);
  if (state.cancel_requested && state.status !== 'CANCELLED') lines.push('  cancel requested');
  if (isStalled(state, now)) lines.push(`  ${stallNote(state.request_id)}`);
  const waiting = sourceWaitNote(state, now);
  if (waiting) lines.push(style.bad(`  ${waiting}`));
  if (state.error) {
    lines.push(style.bad(`error     ${state.error.code}: ${state.error.message}`));
    lines.push(...stderrTailLines(state.error.details, style));
  }
  for (const [key, task] of Object.entries(state.tasks)) {
    if (task.status === 'FAILED' && task.error) {
      lines.push(
        style.bad(
          `  ${key} failed after ${task.attempts} attempt(s): ${task.error.code} — ${task.error.message}`,
        ),
      );
      lines.push(...stderrTailLines(task.error.details, style));
    }
  }
  return lines;
}

/** Colours a status (which may be padded for a table). */
export function paintStatus(status: string, style: Style): string {
  const bare = status.trim();
  if (bare === 'SUCCEEDED') return style.good(status);
  if (bare === 'FAILED' || bare === 'EXPIRED' || bare === 'CANCELLED' || bare === 'CORRUPT')
    return style.bad(status);
  return status;
}

/** `clipseek ls`: one row per request, newest first. */
export function listLines(rows: ListedRequest[], style: Style): string[] {
  if (rows.length === 0) return ['no requests yet: clipseek run <video> --query "…"'];
  const idWidth = Math.max(7, ...rows.map((r) => r.request_id.length));
  const sources = rows.map((r) => shortSource(r.source));
  const sourceWidth = Math.max(6, ...sources.map((s) => s.length));
  const header =
    `${'REQUEST'.padEnd(idWidth)}  ${'STATUS'.padEnd(9)}  ${'CREATED'.padEnd(19)}  CLIPS  MATCHES  ` +
    `${'SOURCE'.padEnd(sourceWidth)}  QUERY`;
  return [
    style.dim(header),
    ...rows.map(
      (r, i) =>
        `${r.request_id.padEnd(idWidth)}  ${paintStatus(r.status.padEnd(9), style)}  ` +
        `${r.created_at.replace('T', ' ').slice(0, 19).padEnd(19)}  ${String(r.clips ?? '-').padStart(5)}  ` +
        `${String(r.matches ?? '-').padStart(7)}  ${sources[i]!.padEnd(sourceWidth)}  ${r.query}`,
    ),
  ];
}

const SOURCE_WIDTH = 48;

/** The video_uri, its end kept when long (the file name is what tells sources apart). */
function shortSource(source: string | null): string {
  if (source === null) return '-';
  return source.length <= SOURCE_WIDTH ? source : `…${source.slice(-(SOURCE_WIDTH - 1))}`;
}
