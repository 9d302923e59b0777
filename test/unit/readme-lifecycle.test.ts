/**
 * The S3 lifecycle configuration the README documents must expire nothing gc
 * decides about: an age rule on results/, index/ or requests/ would delete
 * results that requests and the video index still use.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

interface Rule {
  ID: string;
  Status: string;
  Filter: { Prefix?: string };
  Expiration?: { Days?: number; ExpiredObjectDeleteMarker?: boolean };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
}

function lifecycle(): { Rules: Rule[] } {
  const marker = README.indexOf('<!-- s3-lifecycle');
  expect(marker).toBeGreaterThan(0);
  const block = /```json\n([\s\S]*?)```/.exec(README.slice(marker));
  return JSON.parse(block?.[1] ?? 'null');
}

describe('the README S3 lifecycle rule', () => {
  it('expires by age only outside what gc keeps, and aborts incomplete uploads', () => {
    const { Rules } = lifecycle();
    const protectedPrefixes = ['results/', 'index/', 'requests/'];
    for (const rule of Rules) {
      expect(rule.Status).toBe('Enabled');
      if (rule.Expiration?.Days === undefined) continue;
      const prefix = rule.Filter.Prefix ?? '';
      // An empty prefix covers the whole bucket; any other must not overlap a protected one.
      expect(prefix, rule.ID).not.toBe('');
      for (const p of protectedPrefixes) {
        expect(p.startsWith(prefix) || prefix.startsWith(p), `${rule.ID} covers ${p}`).toBe(false);
      }
    }
    expect(Rules.some((r) => r.AbortIncompleteMultipartUpload && !r.Filter.Prefix)).toBe(true);
  });
});
