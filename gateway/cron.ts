/**
 * The five-field cron expressions the OpenFaaS cron-connector reads from a
 * function's `schedule` annotation: minute hour day-of-month month day-of-week.
 * Each field takes `*`, numbers, ranges `a-b`, steps `*\/n` or `a-b/n`, and
 * comma lists. Times are UTC, as in the connector's container.
 */
import { ClipseekError } from '../common/errors.js';

interface FieldRange {
  name: string;
  min: number;
  max: number;
}

const FIELDS: FieldRange[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  // 7 is Sunday too, as in most crons.
  { name: 'day of week', min: 0, max: 7 },
];

export interface CronSchedule {
  expression: string;
  /** True when the schedule fires in the minute that `date` falls in. */
  matches(date: Date): boolean;
}

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw invalid(expression, `expected 5 fields, got ${parts.length}`);
  const [minutes, hours, days, months, weekdays] = parts.map((part, i) =>
    parseField(part, FIELDS[i]!, expression),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekdays.has(7)) weekdays.add(0);
  // Classic cron: when both day fields are restricted, either one matching is enough.
  const dayOfMonthAny = parts[2] === '*' || parts[2]!.startsWith('*/');
  const dayOfWeekAny = parts[4] === '*' || parts[4]!.startsWith('*/');
  return {
    expression,
    matches(date: Date): boolean {
      if (!minutes.has(date.getUTCMinutes()) || !hours.has(date.getUTCHours())) return false;
      if (!months.has(date.getUTCMonth() + 1)) return false;
      const dom = days.has(date.getUTCDate());
      const dow = weekdays.has(date.getUTCDay());
      if (!dayOfMonthAny && !dayOfWeekAny) return dom || dow;
      return dom && dow;
    },
  };
}

function parseField(text: string, range: FieldRange, expression: string): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) throw invalid(expression, `bad ${range.name} "${item}"`);
    const [, span, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw invalid(expression, `bad step in ${range.name} "${item}"`);
    let from = range.min;
    let to = range.max;
    if (span !== '*') {
      const [a, b] = span!.split('-').map(Number) as [number, number | undefined];
      from = a;
      // "5/15" means from 5 to the end in steps of 15.
      to = b ?? (stepText === undefined ? a : range.max);
    }
    if (from < range.min || to > range.max || from > to) {
      throw invalid(expression, `${range.name} "${item}" is outside ${range.min}-${range.max}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function invalid(expression: string, reason: string): ClipseekError {
  return new ClipseekError('INVALID_CRON', `invalid cron schedule "${expression}": ${reason}`, {
    status: 400,
    details: { expression },
  });
}

/** The start of the minute after `date` (cron fires on minute boundaries). */
export function nextMinute(date: Date): Date {
  const next = new Date(date.getTime());
  next.setUTCSeconds(0, 0);
  next.setUTCMinutes(next.getUTCMinutes() + 1);
  return next;
}
