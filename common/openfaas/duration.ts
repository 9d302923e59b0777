/**
 * Parses a duration the way of-watchdog reads `exec_timeout`, `read_timeout`
 * and `write_timeout`: a Go duration ("300s", "1m30s", "250ms", "1.5h") or a
 * bare integer meaning seconds. Returns milliseconds; undefined when unparsable.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(part)) {
    total += Number(match[1]) * (UNIT_MS[match[2]!] ?? Number.NaN);
    consumed += match[0].length;
  }
  if (consumed !== trimmed.length || Number.isNaN(total)) return undefined;
  return Math.round(total);
}
