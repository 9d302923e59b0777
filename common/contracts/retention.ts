import { z } from 'zod';
import { IsoTime, Namespace, RequestId } from './common.js';

/** An age: a whole number of seconds, minutes, hours or days ("30d", "12h"). */
export const Age = z.string().regex(/^[1-9]\d{0,5}[smhd]$/, 'an age such as 30d, 12h, 90m or 3600s');

const AGE_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of an Age (checked by the schema first). */
export function ageMs(age: string): number {
  const unit = age.at(-1) as keyof typeof AGE_UNIT_MS;
  return Number(age.slice(0, -1)) * AGE_UNIT_MS[unit];
}

export const DEFAULT_GC_AGE = '30d';

/** `{"gc": {…}}`: collect the results nothing references (common/retention/gc.ts). */
export const GcOptions = z
  .object({
    /** Only results whose newest object is older than this are deleted. */
    older_than: Age.default(DEFAULT_GC_AGE),
    /** Report what would be deleted; delete nothing. */
    dry_run: z.boolean().default(false),
  })
  .strict();
export type GcOptions = z.infer<typeof GcOptions>;
export const GcRequest = z.object({ gc: GcOptions }).strict();

/** `{"delete": "<id>"}`: delete a finished request's own objects (never shared results). */
export const DeleteRequest = z.object({ delete: RequestId }).strict();

const Count = z.number().int().nonnegative();

/** What gc did (or, with dry_run, would do). */
export const GcReport = z.object({
  dry_run: z.boolean(),
  older_than: Age,
  /** Objects last written before this were old enough. */
  cutoff: IsoTime,
  /** The namespace swept, or null: every namespace in the bucket. */
  namespace: Namespace.nullable(),
  /** What the mark phase read: request states, video index documents, and the result folders they name. */
  marked: z.object({ requests: Count, documents: Count, dirs: Count }),
  /** Result folders found, and why the ones not deleted were kept. */
  scanned: z.object({ dirs: Count, objects: Count, bytes: Count }),
  kept: z.object({
    referenced: Count,
    /** A task is running in it (a live claim.json). */
    claimed: Count,
    /** Written to since the cut-off. */
    young: Count,
    /** Adopted by a request, or written again, while gc ran (so left alone). */
    raced: Count,
  }),
  /** Deleted (or, dry_run, to be deleted): result folders, and the input/ leftovers of finished requests. */
  deleted: z.object({
    dirs: Count,
    inputs: Count,
    objects: Count,
    bytes: Count,
    /** The first folders and keys deleted (at most 1000). */
    keys: z.array(z.string()),
  }),
});
export type GcReport = z.infer<typeof GcReport>;

/** What `{"delete": …}` / `clipseek rm` deleted: the request's own objects. */
export const DeleteReport = z.object({
  request_id: RequestId,
  deleted: z.object({ objects: Count, bytes: Count }),
});
export type DeleteReport = z.infer<typeof DeleteReport>;
