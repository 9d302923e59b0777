/**
 * Listing requests page by page (common/state/request-list.ts): the one
 * listing behind `clipseek ls` and the orchestrator's `{"list": …}` call.
 * Newest first in a fixed order, a cursor that stays right while requests
 * are added, a status filter with bounded reads, and limits refused with
 * their own codes.
 */
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lsCommand } from '../../cli/commands/ls.js';
import type { RequestPage, RequestStatus } from '../../common/contracts/request.js';
import { checkListQuery, listRequests, putRequestMarker } from '../../common/state/request-list.js';
import { createState } from '../../common/state/state-store.js';
import { callHandler, type Harness, makeHarness } from '../helpers/orchestrator-harness.js';
import { makeState } from '../helpers/state.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

const T0 = Date.parse('2026-12-01T17:00:00.000Z');

/** A request as the orchestrator leaves it: its state and its marker. */
async function seed(
  n: number,
  opts: { status?: (i: number) => RequestStatus; at?: (i: number) => number } = {},
) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const state = makeState();
    state.request_id = `req-${String(ids.length + seeded).padStart(3, '0')}`;
    state.created_at = new Date(opts.at ? opts.at(i) : T0 + (ids.length + seeded) * 1000).toISOString();
    state.status = opts.status?.(i) ?? 'SUCCEEDED';
    state.request.video_uri = `store://uploads/${state.request_id}/clip.mp4`;
    await createState(h.store, state);
    await putRequestMarker(h.store, {
      request_id: state.request_id,
      created_at: state.created_at,
      query: `query ${i}`,
    });
    ids.push(state.request_id);
  }
  seeded += n;
  return ids;
}
let seeded = 0;
beforeEach(() => {
  seeded = 0;
});

/** Every page from the start, following next_cursor. */
async function allPages(query: { limit: number; status?: RequestStatus }, scanLimit?: number) {
  const pages: RequestPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await listRequests(
      h.store,
      checkListQuery({ ...query, ...(cursor ? { cursor } : {}) }),
      scanLimit ? { scanLimit } : {},
    );
    pages.push(page);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return pages;
}

describe('listing requests', () => {
  it('lists 31 requests in pages, newest first, each once, saying how many remain', async () => {
    const ids = await seed(31);
    const pages = await allPages({ limit: 20 });
    expect(pages.map((p) => [p.requests.length, p.remaining, p.next_cursor === null])).toEqual([
      [20, 11, false],
      [11, 0, true],
    ]);
    expect(pages.flatMap((p) => p.requests.map((r) => r.request_id))).toEqual([...ids].reverse());
    expect(pages[0]!.requests[0]).toMatchObject({
      request_id: 'req-030',
      status: 'SUCCEEDED',
      source: 'store://uploads/req-030/clip.mp4',
      query: 'query 30',
    });
  });

  it('goes on right after its cursor while newer requests arrive, ties in created_at ordered by id', async () => {
    // Five share one created_at: their order is the id's, not the listing's.
    const old = await seed(12, { at: (i) => (i < 5 ? T0 : T0 + i * 1000) });
    const first = await listRequests(h.store, checkListQuery({ limit: 9 }));
    await seed(4, { at: (i) => T0 + 60_000 + i }); // submitted meanwhile
    const second = await listRequests(h.store, checkListQuery({ limit: 9, cursor: first.next_cursor! }));
    const listed = [...first.requests, ...second.requests].map((r) => r.request_id);
    expect(listed).toEqual([...old].reverse());
    expect(second.next_cursor).toBeNull();
    // The newer ones are at the front of a fresh listing.
    expect(
      (await listRequests(h.store, checkListQuery({ limit: 4 }))).requests.map((r) => r.request_id),
    ).toEqual(['req-015', 'req-014', 'req-013', 'req-012']);
  });

  it('filters by status, checking at most scanLimit requests per call', async () => {
    const ids = await seed(30, { status: (i) => (i % 7 === 0 ? 'RUNNING' : 'SUCCEEDED') });
    const running = ids.filter((_, i) => i % 7 === 0).reverse();
    const pages = await allPages({ limit: 50, status: 'RUNNING' }, 10);
    expect(pages.map((p) => p.requests.length)).toEqual([2, 1, 2]); // 10 checked per call, 30 in all
    expect(pages.flatMap((p) => p.requests.map((r) => r.request_id))).toEqual(running);
    expect(pages.flatMap((p) => p.requests).every((r) => r.status === 'RUNNING')).toBe(true);
    // Without a scan limit that bites, one page holds them all.
    const one = await allPages({ limit: 50, status: 'RUNNING' });
    expect(one.map((p) => p.requests.length)).toEqual([running.length]);
  });

  it('refuses a bad limit, cursor or status with its own code', () => {
    for (const limit of [0, -1, 1.5, 201, '50', null]) {
      expect(() => checkListQuery({ limit }), String(limit)).toThrow(
        expect.objectContaining({ code: 'INVALID_LIMIT', status: 422 }),
      );
    }
    for (const cursor of ['', 'not-a-cursor', Buffer.from('{"a":1}').toString('base64url'), 7]) {
      expect(() => checkListQuery({ cursor }), String(cursor)).toThrow(
        expect.objectContaining({ code: 'INVALID_CURSOR', status: 422 }),
      );
    }
    expect(() => checkListQuery({ status: 'DONE' })).toThrow(
      expect.objectContaining({ code: 'INVALID_STATUS', status: 422 }),
    );
    expect(() => checkListQuery({ page: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});

describe('the orchestrator answers {"list": …}', () => {
  const call = (body: unknown) => callHandler(h.service())(body);

  it('with a page of requests and the cursor of the next', async () => {
    await seed(5, { status: (i) => (i < 2 ? 'RUNNING' : 'FAILED') });
    const answer = await call({ list: { limit: 3 } });
    expect(answer.status).toBe(200);
    const page = answer.body as RequestPage;
    expect(page.requests.map((r) => r.request_id)).toEqual(['req-004', 'req-003', 'req-002']);
    expect(page.remaining).toBe(2);
    const next = (await call({ list: { limit: 3, cursor: page.next_cursor } })).body as RequestPage;
    expect(next).toMatchObject({ next_cursor: null, remaining: 0 });
    expect(next.requests.map((r) => r.request_id)).toEqual(['req-001', 'req-000']);
    const running = (await call({ list: { status: 'RUNNING' } })).body as RequestPage;
    expect(running.requests.map((r) => r.request_id)).toEqual(['req-001', 'req-000']);
  });

  it('refuses a bad limit as 422 INVALID_LIMIT, and extra keys as INVALID_REQUEST', async () => {
    await expect(call({ list: { limit: 5000 } })).rejects.toMatchObject({
      code: 'INVALID_LIMIT',
      status: 422,
    });
    await expect(call({ list: {}, status: 'x' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});

describe('clipseek ls', () => {
  async function ls(...args: string[]) {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => {
      text += b.toString();
    });
    const io = { out, err: new PassThrough(), env: {}, cwd: h.dir };
    const code = await lsCommand.run([...args, '--storage', pathToFileURL(`${h.dir}/bucket`).href], io);
    return { code, text };
  }

  it('shows the newest 20 of 31 with a source column and says how to see the 11 more', async () => {
    await seed(31);
    const { code, text } = await ls();
    expect(code).toBe(0);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REQUEST +STATUS +CREATED +CLIPS +MATCHES +SOURCE +QUERY$/);
    expect(lines[1]).toMatch(/^req-030 +SUCCEEDED .* store:\/\/uploads\/req-030\/clip\.mp4 +query 30$/);
    expect(lines).toHaveLength(22);
    const hint = /^11 more: clipseek ls --after (\S+)$/.exec(lines[21]!);
    expect(hint, lines[21]).not.toBeNull();
    const rest = await ls('--after', hint![1]!);
    expect(rest.text.trimEnd().split('\n')).toHaveLength(12); // header and the 11, no hint
    expect(rest.text).toContain('req-000');
    expect(rest.text).not.toContain('req-011');
  });

  it('--limit, --status, --all and --json read the same listing', async () => {
    await seed(25, { status: (i) => (i % 5 === 0 ? 'FAILED' : 'SUCCEEDED') });
    const two = await ls('--limit', '2', '--json');
    const page = JSON.parse(two.text) as RequestPage;
    expect(page.requests.map((r) => r.request_id)).toEqual(['req-024', 'req-023']);
    expect(page.remaining).toBe(23);
    const failed = JSON.parse((await ls('--status', 'FAILED', '--json')).text) as RequestPage;
    expect(failed.requests.map((r) => r.request_id)).toEqual([
      'req-020',
      'req-015',
      'req-010',
      'req-005',
      'req-000',
    ]);
    const all = JSON.parse((await ls('--all', '--json')).text) as RequestPage;
    expect(all.requests).toHaveLength(25);
    expect(all.next_cursor).toBeNull();
  });

  it('refuses a bad --limit, --after or --status as a usage error naming the code', async () => {
    await expect(ls('--limit', '0')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(ls('--after', 'garbage')).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('INVALID_CURSOR'),
    });
    await expect(ls('--status', 'DONE')).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('INVALID_STATUS'),
    });
  });
});
