import type { DeleteReport, GcReport } from '../common/contracts/retention.js';
import type { GcProgress } from '../common/retention/gc.js';
import { formatBytes } from './print-search.js';

/** What gc did, for people: deleted (or would delete), kept and why. */
export function gcLines(r: GcReport): string[] {
  const verb = r.dry_run ? 'would delete' : 'deleted';
  const { deleted: d, kept: k } = r;
  return [
    `${verb} ${d.dirs} result folder(s) and ${d.inputs} input leftover(s): ${d.objects} object(s), ${formatBytes(d.bytes)}`,
    `kept ${k.referenced} referenced, ${k.claimed} running, ${k.young} written since ${r.cutoff}, ${k.raced} adopted or rewritten while gc ran`,
    `marked from ${r.marked.requests} request(s) and ${r.marked.documents} video index document(s); scanned ${r.scanned.dirs} folder(s), ${formatBytes(r.scanned.bytes)}`,
    ...d.keys.slice(0, 20).map((key) => `  ${key}`),
    ...(d.keys.length > 20 ? [`  … and ${d.dirs + d.inputs - 20} more (--json lists ${d.keys.length})`] : []),
  ];
}

/** One progress line (stderr). */
export function gcProgressLine(p: GcProgress): string {
  if (p.phase === 'mark') return 'gc: reading request states and video index documents';
  if (p.phase === 'scan') return 'gc: listing the results';
  return `gc: ${p.phase === 'done' ? 'done' : 'sweeping'} ${p.done}/${p.total} folder(s), ${p.objects} object(s), ${formatBytes(p.bytes)}`;
}

export function rmLines(r: DeleteReport): string[] {
  return [
    `${r.request_id} deleted: ${r.deleted.objects} object(s), ${formatBytes(r.deleted.bytes)} (shared results stay; clipseek gc collects unused ones)`,
  ];
}
