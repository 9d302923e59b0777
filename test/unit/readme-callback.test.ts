/**
 * The README's callback verification examples, run as written against
 * callbacks signed the way the orchestrator signs them (callbacks.ts), so the
 * examples cannot drift from what is sent.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { signWebhook, WEBHOOK_HEADERS, webhookKey } from '../../functions/orchestrator/callbacks.js';
import { ROOT } from '../helpers/cli.js';

type Verify = (rawBody: string, headers: Record<string, string>, secret: string) => unknown;

/** The js blocks that follow a `<!-- callback-verify … -->` comment, in order. */
function readmeBlocks(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/<!-- callback-verify[^>]*-->\n```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const verifiers: Array<[string, Verify]> = [];

beforeAll(async () => {
  // Inside the repository, so `standardwebhooks` resolves from its node_modules.
  const dir = join(ROOT, 'test/.artifacts/readme-callback');
  mkdirSync(dir, { recursive: true });
  const blocks = readmeBlocks();
  expect(blocks).toHaveLength(2);
  for (const [i, code] of blocks.entries()) {
    const file = join(dir, `block-${i}.mjs`);
    writeFileSync(file, code);
    const module = (await import(`${pathToFileURL(file).href}?${Date.now()}`)) as Record<string, unknown>;
    const exported = Object.entries(module).filter(([, v]) => typeof v === 'function');
    expect(exported, `block ${i} exports one function`).toHaveLength(1);
    verifiers.push(exported[0] as [string, Verify]);
  }
});

/** A callback as sendCallback signs it. */
function delivery(secret: string, at = new Date(), body = '{"request_id":"r_1","status":"SUCCEEDED"}') {
  const id = 'd_21a6962f8ca6fd0a96662c1b';
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    body,
    headers: {
      [WEBHOOK_HEADERS.id]: id,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signWebhook(id, timestamp, body, webhookKey(secret)),
    },
  };
}

const SECRET = `whsec_${Buffer.from('thirty-two bytes of a secret key').toString('base64')}`;

describe('README: verifying a callback', () => {
  it('each example accepts a callback signed with the secret, as whsec_ or as older plain text', () => {
    for (const [name, verify] of verifiers) {
      const d = delivery(SECRET);
      expect(verify(d.body, d.headers, SECRET), name).toEqual({ request_id: 'r_1', status: 'SUCCEEDED' });
      // A secret made before the spec: the receiver configures whsec_ + base64 of its text.
      const legacy = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      const old = delivery(legacy);
      expect(verify(old.body, old.headers, `whsec_${Buffer.from(legacy).toString('base64')}`), name).toEqual({
        request_id: 'r_1',
        status: 'SUCCEEDED',
      });
    }
  });

  it('each example refuses a tampered body, another secret, a stale timestamp and missing headers', () => {
    for (const [name, verify] of verifiers) {
      const d = delivery(SECRET);
      expect(() => verify(d.body.replace('SUCCEEDED', 'FAILED'), d.headers, SECRET), name).toThrow();
      expect(() =>
        verify(d.body, d.headers, `whsec_${Buffer.from('another key').toString('base64')}`),
      ).toThrow();
      const stale = delivery(SECRET, new Date(Date.now() - 10 * 60_000));
      expect(() => verify(stale.body, stale.headers, SECRET), name).toThrow();
      const { [WEBHOOK_HEADERS.signature]: _dropped, ...unsigned } = d.headers;
      expect(() => verify(d.body, unsigned, SECRET), name).toThrow();
    }
  });
});
