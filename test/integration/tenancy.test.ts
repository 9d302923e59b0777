/**
 * Tenancy: with CLIPSEEK_TENANT_HEADER set, the header's value is the caller's
 * namespace. Two tenants on the same video share nothing (each runs every
 * stage), see only their own requests, and a call without the header is
 * refused. Through the orchestrator's handler on the fake stages.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUEST_STAGES } from '../../common/contracts/pipeline.js';
import type { RequestPage } from '../../common/contracts/request.js';
import type { SearchResult } from '../../common/contracts/video-index.js';
import { readState } from '../../common/state/state-store.js';
import { clipTaskKeys } from '../../common/task-key.js';
import { loadOrchestratorConfig } from '../../functions/orchestrator/config.js';
import { callHandler, type Harness, makeHarness } from '../helpers/orchestrator-harness.js';

const HEADER = 'x-clipseek-tenant';
const ALL_TASKS = [...REQUEST_STAGES, ...[0, 1, 2].flatMap(clipTaskKeys)];
const submit = (extra: object = {}) => ({
  video_uri: 'store://uploads/video.mp4',
  query: 'find scenes with cars',
  ...extra,
});

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.cleanup());

function caller(tenant: string | undefined, extraHeaders: Record<string, string> = {}) {
  const headers = { ...(tenant === undefined ? {} : { [HEADER]: tenant }), ...extraHeaders };
  return callHandler(h.service({ tenantHeader: HEADER }), headers);
}

const idOf = (answer: { headers?: Record<string, string> }) => answer.headers?.['x-request-id'] ?? '';

describe('a namespace per tenant', () => {
  it('reads the header name from CLIPSEEK_TENANT_HEADER (lower-cased), and refuses one that is no header name', () => {
    expect(loadOrchestratorConfig({ CLIPSEEK_TENANT_HEADER: 'X-Clipseek-Tenant' }).tenantHeader).toBe(HEADER);
    expect(loadOrchestratorConfig({}).tenantHeader).toBeUndefined();
    expect(loadOrchestratorConfig({ CLIPSEEK_TENANT_HEADER: '' }).tenantHeader).toBeUndefined();
    expect(() => loadOrchestratorConfig({ CLIPSEEK_TENANT_HEADER: 'x tenant' })).toThrow();
  });

  it('a second tenant on the same video reuses nothing, and each sees only its own requests', async () => {
    const acme = caller('acme');
    const globex = caller('globex');
    const first = await acme(submit({ request_id: 'acme-1' }));
    expect(first.status).toBe(200);
    const stages = h.gateway.invokedFor('acme-1');
    expect(stages.size).toBe(ALL_TASKS.length - 1); // copy-source is the orchestrator's own

    const second = await globex(submit({ request_id: 'globex-1' }));
    expect(second.status).toBe(200);
    // Nothing of acme's is reused: every stage runs again, into globex's results.
    expect(h.gateway.invokedFor('globex-1')).toEqual(stages);
    const { state } = await readState(h.store, 'globex-1');
    expect(state.namespace).toBe('globex');
    for (const task of Object.values(state.tasks)) expect(task.reused).not.toBe(true);
    const manifests = Object.values(state.tasks).map((t) => t.manifest ?? '');
    expect(
      manifests.filter((k) => k.startsWith('results/')).every((k) => k.startsWith('results/globex/')),
    ).toBe(true);

    // A tenant's own second request does reuse its results.
    await acme(submit({ request_id: 'acme-2', query: 'what about the budget' }));
    expect(h.gateway.invokedFor('acme-2')).toEqual(new Map());

    // Search reads its own video index only.
    const mine = (await acme({ search: 'cars' })).body as SearchResult;
    expect({ namespace: mine.namespace, videos: mine.videos }).toEqual({ namespace: 'acme', videos: 1 });
    expect(mine.matches.length).toBeGreaterThan(0);
    const none = (await caller('initech')({ search: 'cars' })).body as SearchResult;
    expect({ namespace: none.namespace, videos: none.videos, matches: none.matches }).toEqual({
      namespace: 'initech',
      videos: 0,
      matches: [],
    });

    const listed = (await acme({ list: {} })).body as RequestPage;
    expect(listed.requests.map((r) => r.request_id).sort()).toEqual(['acme-1', 'acme-2']);
    const theirs = (await globex({ list: {} })).body as RequestPage;
    expect(theirs.requests.map((r) => r.request_id)).toEqual(['globex-1']);

    // Another tenant's request is not found, whatever the call.
    for (const body of [
      { status: 'acme-1' },
      { cancel: 'acme-1' },
      { delete: 'acme-1' },
      { resume: 'acme-1' },
    ]) {
      await expect(globex(body), JSON.stringify(body)).rejects.toMatchObject({
        code: 'REQUEST_NOT_FOUND',
        status: 404,
      });
    }
    expect((await readState(h.store, 'acme-1')).state.status).toBe('SUCCEEDED');
    // Its chosen request_id is taken, and says nothing more.
    await expect(globex(submit({ request_id: 'acme-1' }))).rejects.toMatchObject({
      code: 'REQUEST_ID_TAKEN',
      status: 409,
    });
  });

  it('the same Idempotency-Key from two tenants names two requests', async () => {
    const a = await caller('acme', { 'idempotency-key': 'job-7' })(submit());
    const b = await caller('globex', { 'idempotency-key': 'job-7' })(submit({ query: 'another question' }));
    expect(idOf(a)).toMatch(/^k_/);
    expect(idOf(b)).toMatch(/^k_/);
    expect(idOf(a)).not.toBe(idOf(b));
  });

  it('refuses a call without the header (400 TENANT_REQUIRED) or with a value that is no slug (400 TENANT_INVALID)', async () => {
    for (const body of [
      submit(),
      { list: {} },
      { status: 'x-1' },
      { search: 'cars' },
      { gc: {} },
      { delete: 'x-1' },
    ]) {
      await expect(caller(undefined)(body), JSON.stringify(body)).rejects.toMatchObject({
        code: 'TENANT_REQUIRED',
        status: 400,
      });
    }
    for (const value of ['Acme', 'a/b', '-x', 'acme, globex', 'x'.repeat(64)]) {
      await expect(caller(value)(submit()), value).rejects.toMatchObject({
        code: 'TENANT_INVALID',
        status: 400,
      });
    }
    expect(await h.store.head('index/requests/x-1.json')).toBeUndefined();
  });

  it('resume without the header is the deployment continuing a request (its continuation and sweeper send none)', async () => {
    await caller('acme')(submit({ request_id: 'acme-1' }));
    expect((await caller(undefined)({ resume: 'acme-1' })).status).toBe(200);
  });

  it("a tenant's gc sweeps only its own namespace", async () => {
    await h.store.put(`results/acme/extract-audio/${'a'.repeat(64)}/audio.wav`, 'x');
    await h.store.put(`results/globex/extract-audio/${'a'.repeat(64)}/audio.wav`, 'x');
    const answer = await caller('acme')({ gc: { older_than: '1s', dry_run: true } });
    expect(answer.body).toMatchObject({ namespace: 'acme', scanned: { dirs: 1 } });
  });
});
