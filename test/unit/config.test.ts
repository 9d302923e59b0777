import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, readSecret } from '../../common/config.js';
import { ClipseekError } from '../../common/errors.js';
import { webhookKey, webhookSecretOf } from '../../functions/orchestrator/callbacks.js';
import { loadCallbackSettings, loadOrchestratorConfig } from '../../functions/orchestrator/config.js';

const Schema = z.object({
  STORAGE_URL: z.string().min(1),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

describe('parseConfig', () => {
  it('parses, coerces and defaults', () => {
    expect(parseConfig(Schema, { STORAGE_URL: 'file:///x', PORT: '8080', UNRELATED: 'y' })).toEqual({
      STORAGE_URL: 'file:///x',
      PORT: 8080,
      LOG_LEVEL: 'info',
    });
  });

  it('fails once, naming every bad variable, as INVALID_CONFIG', () => {
    const err = (() => {
      try {
        parseConfig(Schema, { PORT: '99999', LOG_LEVEL: 'loud' });
      } catch (e) {
        return e;
      }
    })() as ClipseekError;
    expect(err).toBeInstanceOf(ClipseekError);
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.retryable).toBe(false);
    for (const name of ['STORAGE_URL', 'PORT', 'LOG_LEVEL']) expect(err.message).toContain(name);
    expect((err.details.issues as unknown[]).length).toBe(3);
  });
});

describe('readSecret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipseek-secrets-'));
    await writeFile(join(dir, 'callback-signing-key'), '  s3cr3t-value\n');
    await writeFile(join(dir, 'empty-secret'), '\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads /var/openfaas/secrets/<name>-style files, trimmed', () => {
    expect(readSecret('callback-signing-key', {}, dir)).toBe('s3cr3t-value');
  });

  it('prefers the file over the environment', () => {
    expect(readSecret('callback-signing-key', { CALLBACK_SIGNING_KEY: 'from-env' }, dir)).toBe(
      's3cr3t-value',
    );
  });

  it('falls back to NAME_IN_UPPER_SNAKE from the environment', () => {
    expect(readSecret('s3-access-key', { S3_ACCESS_KEY: 'AKIA123' }, dir)).toBe('AKIA123');
  });

  it('is undefined when neither exists or the variable is empty', () => {
    expect(readSecret('s3-access-key', {}, dir)).toBeUndefined();
    expect(readSecret('s3-access-key', { S3_ACCESS_KEY: '' }, dir)).toBeUndefined();
    expect(readSecret('anything', {}, join(dir, 'does-not-exist'))).toBeUndefined();
  });

  it('treats an empty secret file as missing (falls back to the environment)', () => {
    expect(readSecret('empty-secret', {}, dir)).toBeUndefined();
    expect(readSecret('empty-secret', { EMPTY_SECRET: 'from-env' }, dir)).toBe('from-env');
  });
});

describe('callback-signing-key (Standard Webhooks)', () => {
  const withKey = (key: string) => ({ CALLBACK_SIGNING_KEY: key });

  it('takes a whsec_ secret as the key it encodes, and any other text as its bytes', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    expect(webhookKey(`whsec_${key.toString('base64')}`)).toEqual(key);
    expect(webhookKey('legacy-hex-secret')).toEqual(Buffer.from('legacy-hex-secret'));
    expect(webhookSecretOf('legacy-hex-secret')).toBe(
      `whsec_${Buffer.from('legacy-hex-secret').toString('base64')}`,
    );
    expect(loadCallbackSettings(withKey(`whsec_${key.toString('base64')}`)).signingKey).toBeDefined();
  });

  it('refuses a whsec_ secret that is not base64 when the function starts, as INVALID_CONFIG', () => {
    for (const bad of ['whsec_', 'whsec_not base64!', 'whsec_ab$cd']) {
      expect(() => webhookKey(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
      expect(() => loadCallbackSettings(withKey(bad)), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    }
  });
});

describe('loadOrchestratorConfig: the namespace', () => {
  it('is CLIPSEEK_NAMESPACE, "default" without it; a namespace that is not a slug is INVALID_CONFIG', () => {
    expect(loadOrchestratorConfig({}).namespace).toBe('default');
    expect(loadOrchestratorConfig({ CLIPSEEK_NAMESPACE: 'tenant-7' }).namespace).toBe('tenant-7');
    for (const bad of ['../x', 'Tenant', '-x', 'a'.repeat(64)]) {
      expect(() => loadOrchestratorConfig({ CLIPSEEK_NAMESPACE: bad }), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    }
  });
});
