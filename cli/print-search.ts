import type { SearchResult, SkippedDocument } from '../common/contracts/video-index.js';
import type { IndexedVideo } from '../common/search/index.js';
import { matchLines, sought } from './print.js';
import { fmtTime } from './report.js';
import type { Style } from './style.js';

/** `clipseek search`: the answers across videos, best first, each naming its video. */
export function searchLines(result: SearchResult, style: Style): string[] {
  const n = result.matches.length;
  const lines = [
    `${n} match${n === 1 ? '' : 'es'} for "${result.query}" in ${result.videos} analysed video${result.videos === 1 ? '' : 's'}`,
    `  looking for: ${sought(result.understood)}`,
  ];
  if (result.understood.note) lines.push(`  ${style.dim(result.understood.note)}`);
  if (result.videos === 0)
    lines.push(`  ${style.dim('nothing analysed yet: clipseek run <video> --query "…"')}`);
  result.matches.forEach((m, i) => {
    lines.push(...matchLines(m, i + 1, style, undefined, m.video.name || m.video.sha256.slice(0, 12)));
  });
  return lines;
}

/** A warning line per video index document that could not be used. */
export function skippedLines(skipped: readonly SkippedDocument[]): string[] {
  return skipped.map((s) => `clipseek: warning: skipped ${s.key}: ${s.code} — ${s.message}`);
}

/** `clipseek videos --json`: one row per analysed video. */
export interface VideoRow {
  name: string;
  uri: string;
  sha256: string;
  duration_s: number;
  profile: string;
  analysed_at: string;
  clips: number;
  coverage: number;
  /** Bytes of the source and the results the analysis holds in the bucket. */
  stored_bytes: number;
  analyses: number;
  request_id: string;
  key: string;
}

export function videoRow({ doc, key, analyses }: IndexedVideo): VideoRow {
  return {
    name: doc.video.name,
    uri: doc.video.uri,
    sha256: doc.video.sha256,
    duration_s: doc.video.duration_s,
    profile: doc.profile,
    analysed_at: doc.created_at,
    clips: doc.clips.length,
    coverage: doc.coverage.ratio,
    stored_bytes: doc.stored_bytes,
    analyses,
    request_id: doc.request_id,
    key,
  };
}

/** `clipseek videos`: what is analysed, newest first. */
export function videoLines(rows: readonly VideoRow[], style: Style): string[] {
  if (rows.length === 0) return ['nothing analysed yet: clipseek run <video> --query "…"'];
  const nameWidth = Math.max(5, ...rows.map((r) => r.name.length));
  return [
    style.dim(
      `${'VIDEO'.padEnd(nameWidth)}  DURATION  ${'PROFILE'.padEnd(8)}  ${'ANALYSED'.padEnd(19)}  CLIPS  COVERAGE      SIZE  SHA256`,
    ),
    ...rows.map(
      (r) =>
        `${r.name.padEnd(nameWidth)}  ${fmtTime(r.duration_s).padStart(8)}  ${r.profile.padEnd(8)}  ` +
        `${r.analysed_at.replace('T', ' ').slice(0, 19).padEnd(19)}  ${String(r.clips).padStart(5)}  ` +
        `${`${Math.floor(r.coverage * 1000) / 10} %`.padStart(8)}  ${formatBytes(r.stored_bytes).padStart(8)}  ${r.sha256.slice(0, 12)}`,
    ),
  ];
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
