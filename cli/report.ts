import type { FinalResult, Match } from '../common/contracts/final.js';
import type { RequestState } from '../common/contracts/state.js';

/**
 * One self-contained HTML page per request: a timeline of the source with
 * the clips on it, each match with its thumbnail, time range, the labels and
 * words that matched (highlighted) and the clip playable in a <video>, and
 * per-stage timings as a small bar chart. Media are embedded as data: URLs
 * when `media` provides them (so the file works anywhere), else linked.
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

export function renderReport(
  final: FinalResult,
  state: RequestState | undefined,
  media: ReportMedia,
): string {
  const duration = final.source?.duration_s ?? Math.max(0, ...final.clip_list.map((c) => c.end));
  const matched = new Set(final.matches.map((m) => m.clip));
  const pct = (t: number) => (duration > 0 ? ((t / duration) * 100).toFixed(3) : '0');
  const timeline = final.clip_list
    .map(
      (c) =>
        `<a class="seg${matched.has(c.clip) ? ' hit' : ''}${c.failed ? ' failed' : ''}" href="#clip-${c.clip}" ` +
        `style="left:${pct(c.start)}%;width:${pct(c.end - c.start)}%" title="clip ${c.clip}: ${fmtTime(c.start)}–${fmtTime(c.end)}"></a>`,
    )
    .join('');
  const understood = final.understood;
  const sought = [
    ...understood.labels.map((l) => `<span class="tag label">${esc(l)}</span>`),
    ...[...understood.terms, ...understood.phrases].map((t) => `<span class="tag word">${esc(t)}</span>`),
  ].join(' ');
  const matches = final.matches.length
    ? final.matches.map((m, i) => renderMatch(m, i + 1, media)).join('\n')
    : `<p class="none">${esc(understood.note ?? 'No clip matches this query.')}</p>`;
  const stages = Object.entries(final.metrics.stages);
  const maxMs = Math.max(1, ...stages.map(([, s]) => s.total_ms));
  const chart = stages
    .map(
      ([name, s]) =>
        `<div class="bar"><span class="name">${esc(name)}</span><span class="fill" style="width:${((s.total_ms / maxMs) * 100).toFixed(1)}%"></span>` +
        `<span class="val">${(s.total_ms / 1000).toFixed(2)} s · ${s.tasks} task${s.tasks === 1 ? '' : 's'}</span></div>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>clipseek · ${esc(final.query)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}.sub{color:#5b6475;margin:0 0 18px}
.tag{display:inline-block;border-radius:10px;padding:1px 8px;font-size:13px;margin:0 2px}
.label{background:#e3f0ff;color:#0b4f9c}.word{background:#fff1d6;color:#8a5300}
.timeline{position:relative;height:28px;background:#e8ebf0;border-radius:6px;margin:10px 0 24px}
.seg{position:absolute;top:4px;bottom:4px;background:#b8c1cf;border-right:1px solid #fafbfc}
.seg.hit{background:#2a7de1}.seg.failed{background:repeating-linear-gradient(45deg,#e0a0a0 0 4px,#f4d6d6 4px 8px)}
.match{display:grid;grid-template-columns:320px 1fr;gap:16px;background:#fff;border:1px solid #e1e5eb;border-radius:8px;padding:14px;margin-bottom:14px}
.match video{width:320px;border-radius:4px;background:#000}.match img.thumb{width:120px;border-radius:4px}
.match h2{font-size:16px;margin:0 0 6px}.score{color:#5b6475;font-weight:normal}
mark{background:#ffe28a;padding:0 2px;border-radius:3px}.none{color:#5b6475}
.bar{display:grid;grid-template-columns:140px 1fr 150px;align-items:center;gap:8px;margin:3px 0;font-size:13px}
.fill{display:block;height:12px;background:#2a7de1;border-radius:3px}.val{color:#5b6475}
footer{color:#8a93a3;font-size:12px;margin-top:24px}
</style></head><body>
<h1>${esc(final.query)}</h1>
<p class="sub">request <code>${esc(final.request_id)}</code> · ${esc(final.status)} · ${final.clips} clips · ${final.matches.length} match${final.matches.length === 1 ? '' : 'es'} · source ${fmtTime(duration)}</p>
<p>Looking for: ${sought || '<em>nothing searchable</em>'}${understood.unknown.length ? ` · not understood: ${understood.unknown.map(esc).join(', ')}` : ''}</p>
<div class="timeline" aria-label="clips on the source timeline">${timeline}</div>
<section id="matches">
${matches}
</section>
<h3>Time per stage</h3>
<div class="chart">${chart}</div>
<footer>${state ? `state: ${esc(state.status)}, runs ${state.runs}, updated ${esc(state.updated_at)} · ` : ''}wall ${(final.metrics.wall_ms / 1000).toFixed(1)} s</footer>
</body></html>
`;
}

function renderMatch(m: Match, rank: number, media: ReportMedia): string {
  const video = m.video_key ? media.url(m.video_key) : undefined;
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
  return `<article class="match" id="clip-${m.clip}">
<div>${video ? `<video controls preload="metadata" src="${esc(video)}"${thumb ? ` poster="${esc(thumb)}"` : ''}></video>` : thumb ? `<img class="thumb" src="${esc(thumb)}" alt="clip ${m.clip}">` : ''}</div>
<div><h2>#${rank} · clip ${m.clip} · ${fmtTime(m.start)}–${fmtTime(m.end)} <span class="score">score ${m.score.toFixed(2)}</span></h2>
${labels ? `<p>Seen:</p><ul>${labels}</ul>` : ''}${words ? `<p>Heard:</p><ul>${words}</ul>` : ''}
${m.transcript ? `<p class="transcript">“${transcript}”</p>` : ''}</div>
</article>`;
}
