import { describe, expect, it } from 'vitest';
import { parseRetryAfter, RETRY_AFTER_MAX_MS } from '../../common/http/retry-after.js';

const NOW = Date.parse('2015-10-21T07:28:00.000Z');

describe('parseRetryAfter: the wait a Retry-After header asks for', () => {
  it.each([
    { header: '120', ms: 120_000 },
    { header: '0', ms: 0 },
    { header: ' 2 ', ms: 2000 },
    { header: '1.5', ms: 1500 },
    { header: ['7', '9'], ms: 7000 },
    { header: '999999999999', ms: RETRY_AFTER_MAX_MS },
    { header: 'Wed, 21 Oct 2015 07:28:30 GMT', ms: 30_000 },
    { header: 'Wednesday, 21-Oct-15 07:29:00 GMT', ms: 60_000 },
    { header: 'Wed Oct 21 07:28:05 2015', ms: 5000 },
    { header: 'Wed Oct  1 07:28:00 2015', ms: 0 },
    { header: 'Tue, 20 Oct 2015 07:28:00 GMT', ms: 0 },
    { header: 'Fri, 01 Jan 2100 00:00:00 GMT', ms: RETRY_AFTER_MAX_MS },
    { header: undefined, ms: undefined },
    { header: null, ms: undefined },
    { header: '', ms: undefined },
    { header: [], ms: undefined },
    { header: '-3', ms: undefined },
    { header: '1e3', ms: undefined },
    { header: '0x10', ms: undefined },
    { header: 'Infinity', ms: undefined },
    { header: 'soon', ms: undefined },
    { header: 'later 2030', ms: undefined },
    { header: 'Wed, 32 Oct 2015 07:28:00 GMT', ms: undefined },
  ] as const)('$header → $ms', ({ header, ms }) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it('measures a date from now by default', () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(parseRetryAfter(inTenSeconds)).toBeGreaterThan(8000);
    expect(parseRetryAfter(inTenSeconds)).toBeLessThanOrEqual(10_000);
  });
});
