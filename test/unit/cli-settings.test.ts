import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedHosts, upCommand } from '../../cli/commands/up.js';
import { writeRunningStack } from '../../cli/local-stack.js';
import { resolveSettings } from '../../cli/settings.js';

const data = mkdtempSync(join(tmpdir(), 'clipseek-settings-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

describe('which gateway: --gateway, else GATEWAY_URL, else faas-cli’s OPENFAAS_URL, else the running stack', () => {
  beforeAll(() =>
    writeRunningStack(data, {
      pid: process.pid,
      gateway_url: 'http://127.0.0.1:39999',
      storage_url: 'file:///nowhere',
      started_at: new Date().toISOString(),
    }),
  );

  it.each([
    { flag: undefined, env: {}, want: 'http://127.0.0.1:39999' },
    {
      flag: undefined,
      env: { OPENFAAS_URL: 'http://gw.example.org:8080/' },
      want: 'http://gw.example.org:8080',
    },
    { flag: undefined, env: { OPENFAAS_URL: '  ' }, want: 'http://127.0.0.1:39999' },
    {
      flag: undefined,
      env: { OPENFAAS_URL: 'http://faas.example.org', GATEWAY_URL: 'http://ours.example.org' },
      want: 'http://ours.example.org',
    },
    {
      flag: 'http://flag.example.org',
      env: { OPENFAAS_URL: 'http://faas.example.org' },
      want: 'http://flag.example.org',
    },
  ])('--gateway $flag, $env → $want', ({ flag, env, want }) => {
    expect(resolveSettings({ data, gateway: flag }, env, '/').gatewayUrl).toBe(want);
  });
});

describe('up --help', () => {
  it('names the hosts a local stack allows, as the code sets them', () => {
    const named = /SOURCE_ALLOWED_HOSTS and\s+CALLBACK_ALLOWED_HOSTS default to (\S+)\)/.exec(
      upCommand.usage,
    )?.[1];
    expect(named).toBe('127.0.0.1,localhost,::1');
    expect(allowedHosts({})).toEqual({ SOURCE_ALLOWED_HOSTS: named, CALLBACK_ALLOWED_HOSTS: named });
    expect(allowedHosts({ SOURCE_ALLOWED_HOSTS: 'media.local' }).SOURCE_ALLOWED_HOSTS).toBe('media.local');
  });
});
