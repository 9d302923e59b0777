import { describe, expect, it } from 'vitest';
import { VideoIndexDocument } from '../../common/contracts/video-index.js';
import { checkDocument } from '../../common/search/validate.js';
import { mulberry32 } from '../helpers/seeded-random.js';
import { variedDocument } from '../helpers/video-index.js';

type Json = unknown;

/** Every way to break one place of `value`: other values for a leaf, an element more or less, a key less. */
function* mutations(value: Json): Generator<Json> {
  const leaf = [
    -1,
    0,
    0.5,
    1.5,
    100_000,
    1e300,
    '',
    'x',
    '..',
    'a/../b',
    'a\\b',
    'x'.repeat(2049),
    null,
    true,
  ];
  if (Array.isArray(value)) {
    yield [...value, value[0] ?? 0];
    if (value.length > 0) yield value.slice(1);
    yield {};
    for (let i = 0; i < value.length; i++) {
      for (const m of mutations(value[i])) yield value.map((v, k) => (k === i ? m : v));
    }
  } else if (typeof value === 'object' && value !== null) {
    yield [];
    for (const key of Object.keys(value)) {
      const { [key]: _, ...rest } = value as Record<string, Json>;
      yield rest;
      for (const m of mutations((value as Record<string, Json>)[key])) yield { ...rest, [key]: m };
    }
  } else {
    yield* leaf.filter((v) => v !== value);
  }
}

describe('checkDocument: video index documents accepted and refused exactly as VideoIndexDocument does', () => {
  it('accepts valid documents as they are, without zod’s copy', () => {
    const doc = variedDocument(0, mulberry32(1));
    const checked = checkDocument(doc);
    expect(checked).toEqual({ ok: true, doc });
    expect(checked.ok && checked.doc).toBe(doc);
  });

  it('agrees with zod on every one-place change of a document, and gives zod’s reason', () => {
    const random = mulberry32(7);
    let doc = variedDocument(1, random);
    const full = (c: (typeof doc.clips)[number]) => c.words.length > 0 && c.labels.length > 0;
    while (!doc.clips.some(full) || !doc.clips.some((c) => c.video_key === undefined)) {
      doc = variedDocument(1, random);
    }
    // Small enough to break everywhere: two clips, a few of each tuple.
    const small = {
      ...doc,
      clips: [doc.clips.find(full)!, doc.clips.find((c) => c.video_key === undefined)!].map((c) => ({
        ...c,
        words: c.words.slice(0, 2),
        frames: c.frames.slice(0, 2),
        labels: c.labels.slice(0, 2).map((l) => ({ ...l, seen: l.seen.slice(0, 2) })),
      })),
    };
    let refused = 0;
    let tried = 0;
    for (const changed of mutations(small)) {
      const zod = VideoIndexDocument.safeParse(changed);
      const checked = checkDocument(changed);
      expect(checked.ok, JSON.stringify(changed).slice(0, 300)).toBe(zod.success);
      if (!zod.success) {
        refused += 1;
        const issue = zod.error.issues[0]!;
        expect(checked).toEqual({ ok: false, reason: `${issue.path.join('.')}: ${issue.message}` });
      }
      tried += 1;
    }
    expect(tried).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(tried / 2);
  });
});
