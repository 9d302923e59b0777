import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { createFunctionServer, type FunctionServer } from '../../common/openfaas/server.js';
import { PROFILE_NAMES } from '../../common/profiles.js';
import { orchestratorHandler } from '../../functions/orchestrator/routes.js';
import type { OrchestratorService } from '../../functions/orchestrator/service.js';

/**
 * How the orchestrator refuses a body its schema rejects, over HTTP: the
 * README's codes for a bad profile and bad overrides, the general
 * INVALID_REQUEST otherwise. The service behind it must never be reached.
 */
let fn: FunctionServer;
let url: string;
const reached: unknown[] = [];

beforeAll(async () => {
  const service = {
    callerOf: () => ({ namespace: 'default', tenant: false }),
    submit: async (request: unknown) => {
      reached.push(request);
      throw new Error('a refused body reached the service');
    },
  } as unknown as OrchestratorService;
  fn = createFunctionServer({
    name: 'orchestrator',
    logger: createLogger({ name: 'routes-test', level: 'silent' }),
    handler: orchestratorHandler(service),
    execTimeoutMs: 0,
  });
  fn.server.listen(0, '127.0.0.1');
  await once(fn.server, 'listening');
  url = `http://127.0.0.1:${(fn.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await fn?.shutdown(100);
  expect(reached).toEqual([]);
});

interface Refusal {
  error: { code: string; details: { issues?: Array<{ path: unknown[] }>; known?: unknown } };
}

async function post(extra: Record<string, unknown>): Promise<{ status: number; body: Refusal }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ video_uri: 'store://uploads/a.mp4', query: 'find the car', ...extra }),
  });
  return { status: res.status, body: (await res.json()) as Refusal };
}

describe('orchestrator: a rejected body gets the code of the field at fault', () => {
  it('an unknown profile is 422 UNKNOWN_PROFILE, naming the known ones', async () => {
    const { status, body } = await post({ profile: 'turbo' });
    expect({ status, code: body.error.code }).toEqual({ status: 422, code: 'UNKNOWN_PROFILE' });
    expect(body.error.details.known).toEqual(PROFILE_NAMES);
    expect(body.error.details.issues?.map((i) => i.path)).toEqual([['profile']]);
  });

  it.each([
    ['a value out of bounds (frames.fps -1)', { frames: { fps: -1 } }, ['overrides', 'frames', 'fps']],
    ['an unknown key (run.shell)', { run: { shell: 'rm -rf /' } }, ['overrides', 'run']],
    ['not an object', 'fast please', ['overrides']],
  ])('overrides with %s are 422 INVALID_OVERRIDES', async (_label, overrides, path) => {
    const { status, body } = await post({ overrides });
    expect({ status, code: body.error.code }).toEqual({ status: 422, code: 'INVALID_OVERRIDES' });
    expect(body.error.details.issues?.map((i) => i.path)).toEqual([path]);
  });

  it.each([
    ['a bad profile and bad overrides at once', { profile: 'turbo', overrides: { frames: { fps: -1 } } }],
    ['an unknown profile next to an unknown field', { profile: 'turbo', priority: 'high' }],
    ['a query of blanks', { query: '  ' }],
  ])('%s is 422 INVALID_REQUEST', async (_label, extra) => {
    const { status, body } = await post(extra);
    expect({ status, code: body.error.code }).toEqual({ status: 422, code: 'INVALID_REQUEST' });
  });
});
