import type { FinalResult, Match } from '../common/contracts/final.js';
import { STAGE_NAMES } from '../common/contracts/pipeline.js';
import type { RequestState } from '../common/contracts/state.js';
import { parseTaskKey } from '../common/task-key.js';

/**
 * One self-contained HTML page per request: a timeline of the source with
 * the clips on it, the answer ranges, where the matched labels and words are
 * and what was not analysed; each answer with its best frame, time range, the
 * labels and words that matched (highlighted) and its first clip playable in
 * a <video> from where the answer starts; per-stage timings as a
 * small chart, and every clip in a table. Media are embedded as data: URLs
 * when `media` provides them (so the file works anywhere), else linked.
 * No script, no external resource: it opens the same from disk or mail.
 */
export interface ReportMedia {
  /** Returns a URL (data: or file:) for an object key, or undefined to leave it out. */
  url(key: string): string | undefined;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const fmtTime = (s: number) => {
  const m = Math.floor(s / 60);
  const sec = s - m * 60;
  return `${m}:${sec.toFixed(1).padStart(4, '0')}`;
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function renderReport(
  final: FinalResult,
  state: RequestState | undefined,
  media: ReportMedia,
): string {
  const duration = final.source?.duration_s ?? Math.max(0, ...final.clip_list.map((c) => c.end));
  const understood = final.understood;
  const sought = [
    ...understood.labels.map((l) => `<span class="tag label">${esc(l)}</span>`),
    ...[...understood.phrases, ...understood.terms].map((t) => `<span class="tag word">${esc(t)}</span>`),
  ].join(' ');
  const matches = final.matches.length
    ? final.matches.map((m, i) => renderMatch(m, i + 1, final, media)).join('\n')
    : `<p class="none">${esc(final.note ?? understood.note ?? 'Nothing in the video matches this query.')}</p>`;
  const speechOnly =
    understood.speech_only.length && understood.objects.length === 0
      ? `<p class="muted">The detector cannot see ${understood.speech_only.map(esc).join(', ')}: searched only in what is said.${
          understood.suggestions.length
            ? ` Objects it can see that are near: ${understood.suggestions.map((x) => `${esc(x.word)} → ${x.labels.map(esc).join(', ')}`).join('; ')}.`
            : ''
        }</p>`
      : '';
  const coverage = final.coverage
    ? `<p class="muted">Analysed ${fmtTime(final.coverage.analysed_s)} of ${fmtTime(final.coverage.duration_s)} (${Math.floor(final.coverage.ratio * 1000) / 10} %)${
        final.coverage.unanalysed.length
          ? `; <span class="problem-inline">not analysed: ${final.coverage.unanalysed.map(([a, b]) => `${fmtTime(a)}–${fmtTime(b)}`).join(', ')}</span>`
          : ''
      }.</p>`
    : '';
  const problem =
    final.status === 'SUCCEEDED'
      ? ''
      : `<p class="problem">${esc(final.status)}${final.error ? `: <code>${esc(final.error.code)}</code> ${esc(final.error.message)}` : ''}</p>`;
  const failedClips = final.failed_clips.length
    ? `<ul class="problem">${final.failed_clips
        .map((f) => `<li>clip ${f.clip}: <code>${esc(f.error.code)}</code> ${esc(f.error.message)}</li>`)
        .join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<title>clipseek · ${esc(final.query)}</title>
<style>${STYLE}</style></head><body>
<h1>${esc(final.query)}</h1>
<p class="sub">request <code>${esc(final.request_id)}</code> · <span class="status ${esc(final.status.toLowerCase())}">${esc(final.status)}</span> · ${plural(final.clips, 'clip')} · <span id="match-count">${final.answerable ? plural(final.matches.length, 'match', 'matches') : 'cannot be answered'}</span> · source ${fmtTime(duration)}${state ? ` · profile ${esc(state.profile)}` : ''}</p>
${problem}
<p>Looking for: ${sought || '<em>nothing searchable</em>'}${understood.unknown.length ? ` <span class="muted">· not understood: ${understood.unknown.map(esc).join(', ')}</span>` : ''}</p>
${speechOnly}${coverage}
${renderTimeline(final, duration)}
<section id="matches">
${matches}
</section>
${failedClips}
<h3>Time per stage</h3>
${renderStageChart(final, state)}
<details${final.clip_list.length <= 20 ? ' open' : ''}><summary>All ${plural(final.clip_list.length, 'clip')}</summary>
${renderClipTable(final, media)}
</details>
<footer>${state ? `state ${esc(state.status)} · ${plural(state.runs, 'run')} · updated ${esc(state.updated_at)} · ` : ''}wall ${(final.metrics.wall_ms / 1000).toFixed(1)} s · made by clipseek</footer>
</body></html>
`;
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h3{margin:26px 0 8px;font-size:16px}.sub{color:#5b6475;margin:0 0 14px}
.muted,.none{color:#5b6475}.status.succeeded{color:#17803d;font-weight:600}.status.failed,.status.cancelled,.status.expired{color:#b42318;font-weight:600}
.problem{background:#fdecea;border:1px solid #f5c2bd;border-radius:6px;padding:8px 12px;color:#7a1d14}
.tag{display:inline-block;border-radius:10px;padding:1px 8px;font-size:13px;margin:0 2px}
.label{background:#e3f0ff;color:#0b4f9c}.word{background:#fff1d6;color:#8a5300}
.timeline{position:relative;height:34px;background:#e8ebf0;border-radius:6px;margin:10px 0 4px}
.seg{position:absolute;top:4px;height:18px;background:#b8c1cf;border-right:1px solid #fafbfc;border-radius:2px}
.seg.hit{background:#2a7de1}.seg.failed{background:repeating-linear-gradient(45deg,#e0a0a0 0 4px,#f4d6d6 4px 8px)}
.answer{position:absolute;top:0;height:3px;background:#17803d;border-radius:2px;min-width:3px}
.gap{position:absolute;top:4px;height:18px;background:repeating-linear-gradient(45deg,#555 0 3px,#ddd 3px 6px);opacity:.6}
.problem-inline{color:#b42318}.match img.thumb.best{margin-top:6px;width:160px}
.ev{position:absolute;height:5px;bottom:3px;border-radius:2px}.ev.label{background:#0b4f9c}.ev.word{background:#d97706;width:3px}
.axis{position:relative;height:16px;font-size:11px;color:#8a93a3;margin-bottom:18px}.axis span{position:absolute;transform:translateX(-50%)}
.legend{font-size:12px;color:#5b6475;margin:0 0 16px}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}
.match{display:grid;grid-template-columns:340px 1fr;gap:16px;background:#fff;border:1px solid #e1e5eb;border-radius:8px;padding:14px;margin-bottom:14px}
.match video,.match img.thumb{width:340px;border-radius:4px;background:#000;display:block}
.match h2{font-size:16px;margin:0 0 6px}.score{color:#5b6475;font-weight:normal}
.match ul{margin:2px 0 8px;padding-left:18px}.match p{margin:6px 0 2px}
mark{background:#ffe28a;padding:0 2px;border-radius:3px}
.gantt{position:relative}.row{display:grid;grid-template-columns:130px 1fr 210px;align-items:center;gap:8px;margin:3px 0;font-size:13px}
.track{position:relative;height:12px;background:#eef1f5;border-radius:3px}.span{position:absolute;top:0;bottom:0;background:#2a7de1;border-radius:3px;min-width:2px}
.val{color:#5b6475}
table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}td,th{border-bottom:1px solid #e1e5eb;padding:4px 6px;text-align:left;vertical-align:top}
td img{width:96px;border-radius:3px}tr.hit td:first-child{border-left:3px solid #2a7de1}
details{margin-top:22px}summary{cursor:pointer;font-weight:600}
footer{color:#8a93a3;font-size:12px;margin-top:24px}
`;

function renderTimeline(final: FinalResult, duration: number): string {
  const pct = (t: number) =>
    duration > 0 ? Math.min(100, Math.max(0, (t / duration) * 100)).toFixed(3) : '0';
  const matched = new Set(final.matches.flatMap((m) => m.clips));
  const segments = final.clip_list.map((c) => {
    const cls = `seg${matched.has(c.clip) ? ' hit' : ''}${c.failed ? ' failed' : ''}`;
    const target = `#row-${c.clip}`;
    return (
      `<a class="${cls}" href="${target}" style="left:${pct(c.start)}%;width:${pct(c.end - c.start)}%" ` +
      `title="clip ${c.clip}: ${fmtTime(c.start)}–${fmtTime(c.end)}${c.transcript ? ` · ${esc(c.transcript)}` : ''}"></a>`
    );
  });
  // The answers, where the matched labels are seen and the matched words are heard.
  const answers = final.matches.map(
    (m, i) =>
      `<a class="answer" href="#match-${i + 1}" style="left:${pct(m.start)}%;width:${pct(m.end - m.start)}%" title="#${i + 1}: ${fmtTime(m.start)}–${fmtTime(m.end)}"></a>`,
  );
  const gaps = (final.coverage?.unanalysed ?? []).map(
    ([a, b]) =>
      `<span class="gap" style="left:${pct(a)}%;width:${pct(b - a)}%" title="not analysed ${fmtTime(a)}–${fmtTime(b)}"></span>`,
  );
  const evidence = final.matches.flatMap((m) => [
    ...m.why.labels.flatMap((l) =>
      l.ranges.map(
        ([a, b]) =>
          `<span class="ev label" style="left:${pct(a)}%;width:${pct(b - a)}%" title="${esc(l.label)} ${fmtTime(a)}–${fmtTime(b)}"></span>`,
      ),
    ),
    ...m.why.words.map(
      (w) =>
        `<span class="ev word" style="left:${pct(w.start)}%" title="“${esc(w.word)}” at ${fmtTime(w.start)}"></span>`,
    ),
  ]);
  const step = tickStep(duration);
  const ticks: string[] = [];
  for (let t = 0; t <= duration + 1e-9 && step > 0; t += step) {
    ticks.push(`<span style="left:${pct(t)}%">${fmtTime(t).replace(/\.0$/, '')}</span>`);
  }
  return `<div class="timeline" aria-label="clips on the source timeline">${segments.join('')}${gaps.join('')}${answers.join('')}${evidence.join('')}</div>
<div class="axis">${ticks.join('')}</div>
<p class="legend"><i style="background:#17803d"></i>answer<i style="background:#2a7de1"></i>clip with an answer<i style="background:#b8c1cf"></i>other clip<i style="background:#0b4f9c"></i>object seen<i style="background:#d97706"></i>word heard</p>`;
}

/** A round tick interval giving about 6–12 ticks. */
function tickStep(duration: number): number {
  if (duration <= 0) return 0;
  return [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find((s) => duration / s <= 12) ?? 7200;
}

function renderMatch(m: Match, rank: number, final: FinalResult, media: ReportMedia): string {
  const first = final.clip_list.find((c) => c.clip === m.clips[0]);
  const firstKey = m.video_keys[0];
  // A media fragment starts the first clip where the answer starts.
  const offset = first ? Math.max(0, m.start - first.start) : 0;
  const video = firstKey ? media.url(firstKey) : undefined;
  const thumb = m.thumbnail_key ? media.url(m.thumbnail_key) : undefined;
  const hitWords = new Set(m.why.words.map((w) => w.word.toLowerCase()));
  const transcript = m.transcript
    .split(/(\s+)/)
    .map((tok) =>
      hitWords.has(tok.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '')) ? `<mark>${esc(tok)}</mark>` : esc(tok),
    )
    .join('');
  const labels = m.why.labels
    .map(
      (l) =>
        `<li><mark>${esc(l.label)}</mark> ${l.ranges.map(([a, b]) => `${fmtTime(a)}–${fmtTime(b)}`).join(', ')} (best ${l.best_score.toFixed(2)})</li>`,
    )
    .join('');
  const words = m.why.words
    .map((w) => `<li><mark>${esc(w.word)}</mark> at ${fmtTime(w.start)}</li>`)
    .join('');
  const player = video
    ? `<video controls preload="metadata" src="${esc(video)}${video.startsWith('data:') ? '' : `#t=${offset.toFixed(1)}`}"${thumb ? ` poster="${esc(thumb)}"` : ''}></video>`
    : thumb
      ? `<img class="thumb" src="${esc(thumb)}" alt="answer ${rank}">`
      : '';
  const clips = m.clips.map((c) => `<a href="#row-${c}">${c}</a>`).join(', ');
  const missing = m.missing.length
    ? `<p class="muted">Has ${m.found.map(esc).join(', ')}; not ${m.missing.map(esc).join(', ')}.</p>`
    : '';
  return `<article class="match" id="match-${rank}">
<div>${player}${thumb && video ? `<img class="thumb best" src="${esc(thumb)}" alt="best frame of answer ${rank}">` : ''}</div>
<div><h2>#${rank} · ${fmtTime(m.start)}–${fmtTime(m.end)} <span class="score">score ${m.score.toFixed(2)} · ${m.clips.length === 1 ? 'clip' : 'clips'} ${clips}</span></h2>
${missing}
${labels ? `<p>Seen:</p><ul>${labels}</ul>` : ''}${words ? `<p>Heard:</p><ul>${words}</ul>` : ''}
${m.transcript ? `<p class="transcript">“${transcript}”</p>` : ''}</div>
</article>`;
}

/**
 * Per stage: when its tasks ran (first start to last finish, on the
 * request's clock) when state.json has the task times, and the summed and
 * longest task time from final.json's metrics.
 */
function renderStageChart(final: FinalResult, state: RequestState | undefined): string {
  const spans = state ? stageSpans(state) : new Map<string, [number, number]>();
  const names = [
    ...STAGE_NAMES.filter((s) => final.metrics.stages[s] || spans.has(s)),
    ...Object.keys(final.metrics.stages).filter((s) => !(STAGE_NAMES as readonly string[]).includes(s)),
  ];
  const end = Math.max(1, ...[...spans.values()].map(([, b]) => b));
  const maxTotal = Math.max(1, ...names.map((n) => final.metrics.stages[n]?.total_ms ?? 0));
  const rows = names.map((name) => {
    const m = final.metrics.stages[name];
    const span = spans.get(name);
    const [left, width] = span
      ? [(span[0] / end) * 100, ((span[1] - span[0]) / end) * 100]
      : [0, ((m?.total_ms ?? 0) / maxTotal) * 100];
    const value = m
      ? `${plural(m.tasks, 'task')} · ${(m.total_ms / 1000).toFixed(2)} s${m.tasks > 1 ? ` · max ${(m.max_ms / 1000).toFixed(2)} s` : ''}`
      : '';
    const title = span
      ? `${(span[0] / 1000).toFixed(2)} s → ${(span[1] / 1000).toFixed(2)} s after the request started`
      : '';
    return `<div class="row"><span>${esc(name)}</span><span class="track"><span class="span" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%" title="${title}"></span></span><span class="val">${value}</span></div>`;
  });
  const caption = spans.size
    ? `<p class="legend">Bars: when each stage's tasks ran, over the ${(end / 1000).toFixed(1)} s of the run; right: task count, summed and longest task time.</p>`
    : '';
  return `<div class="gantt">${rows.join('')}</div>${caption}`;
}

/** stage → [first start, last finish] in ms after the request was created. */
function stageSpans(state: RequestState): Map<string, [number, number]> {
  const origin = Date.parse(state.created_at);
  const spans = new Map<string, [number, number]>();
  for (const [key, task] of Object.entries(state.tasks)) {
    if (!task.started_at || !task.finished_at) continue;
    const { stage } = parseTaskKey(key);
    const a = Date.parse(task.started_at) - origin;
    const b = Date.parse(task.finished_at) - origin;
    const prev = spans.get(stage);
    spans.set(stage, prev ? [Math.min(prev[0], a), Math.max(prev[1], b)] : [a, b]);
  }
  return spans;
}

function renderClipTable(final: FinalResult, media: ReportMedia): string {
  const matched = new Set(final.matches.flatMap((m) => m.clips));
  const rows = final.clip_list.map((c) => {
    const thumb = c.thumbnail_key ? media.url(c.thumbnail_key) : undefined;
    return `<tr id="row-${c.clip}"${matched.has(c.clip) ? ' class="hit"' : ''}><td>${c.clip}</td><td>${thumb ? `<img src="${esc(thumb)}" alt="clip ${c.clip}">` : ''}</td><td>${fmtTime(c.start)}–${fmtTime(c.end)}</td><td>${c.labels.map((l) => `<span class="tag label">${esc(l)}</span>`).join(' ')}</td><td>${c.failed ? '<em>failed</em>' : esc(c.transcript ?? '')}</td></tr>`;
  });
  return `<table><thead><tr><th>clip</th><th></th><th>time</th><th>objects</th><th>transcript</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
