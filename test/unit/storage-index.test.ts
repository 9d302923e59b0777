import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipseekError } from '../../common/errors.js';
import { createStore, FolderStore, S3Store, storageUrlFromEnv } from '../../common/storage/index.js';

// One setting picks the store: STORAGE_URL.

let secrets: string;
const noSecrets = join(tmpdir(), 'clipseek-no-such-secrets-dir');

beforeAll(async () => {
  secrets = await mkdtemp(join(tmpdir(), 'clipseek-secrets-'));
  await writeFile(join(secrets, 's3-access-key'), 'AKIAFROMFILE\n');
  await writeFile(join(secrets, 's3-secret-key'), 'secret-from-file\n');
});
afterAll(async () => {
  await rm(secrets, { recursive: true, force: true });
});

async function resolvedConfig(store: S3Store) {
  const c = store.client.config;
  return {
    region: await c.region(),
    forcePathStyle: c.forcePathStyle,
    endpoint: await c.endpoint?.(),
    credentials: await c.credentials(),
    maxAttempts: await (c.maxAttempts as () => Promise<number>)(),
  };
}

describe('createStore', () => {
  it('file:///abs/path is a folder store on that folder', () => {
    const store = createStore('file:///srv/clipseek/bucket');
    expect(store).toBeInstanceOf(FolderStore);
    expect((store as FolderStore).root).toBe('/srv/clipseek/bucket');
    expect(store.url).toBe('file:///srv/clipseek/bucket');
  });

  it('a plain path is a folder store, resolved against the working directory', () => {
    const store = createStore('data/bucket');
    expect((store as FolderStore).root).toBe(resolve('data/bucket'));
  });

  it('s3:// with endpoint, region and path_style is an S3 store configured that way', async () => {
    const url =
      's3://media-bucket?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-central-1&path_style=true';
    const store = createStore(url, { env: {}, secretsDir: secrets });
    expect(store).toBeInstanceOf(S3Store);
    expect((store as S3Store).bucket).toBe('media-bucket');
    expect(store.url).toBe(url);
    const config = await resolvedConfig(store as S3Store);
    expect(config).toMatchObject({ region: 'eu-central-1', forcePathStyle: true, maxAttempts: 3 });
    expect(config.endpoint).toMatchObject({ hostname: '127.0.0.1', port: 9000, protocol: 'http:' });
    expect(config.credentials).toMatchObject({
      accessKeyId: 'AKIAFROMFILE',
      secretAccessKey: 'secret-from-file',
    });
    await store.close?.();
  });

  it('s3:// defaults: region from AWS_REGION, path-style only with a custom endpoint, env credentials', async () => {
    const env = { AWS_REGION: 'ap-south-1', S3_ACCESS_KEY: 'AKIAENV', S3_SECRET_KEY: 'env-secret' };
    const plain = createStore('s3://media-bucket', { env, secretsDir: noSecrets }) as S3Store;
    expect(await resolvedConfig(plain)).toMatchObject({
      region: 'ap-south-1',
      forcePathStyle: false,
      credentials: { accessKeyId: 'AKIAENV' },
    });
    const custom = createStore('s3://media-bucket?endpoint=http://minio:9000&max_attempts=5', {
      env,
      secretsDir: noSecrets,
    }) as S3Store;
    expect(await resolvedConfig(custom)).toMatchObject({ forcePathStyle: true, maxAttempts: 5 });
    await plain.close();
    await custom.close();
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['ftp://host/bucket', 'unsupported scheme'],
    ['file://relative/path', 'file URL with a host'],
    ['s3://', 'no bucket'],
    ['s3://Bad_Bucket', 'bad bucket name'],
    ['s3://bucket/some/prefix', 'key prefix'],
    ['s3://user:pass@bucket', 'credentials in the URL'],
    ['s3://bucket?endpint=http://x', 'misspelt parameter'],
    ['s3://bucket?endpoint=minio:9000', 'endpoint without scheme'],
    ['s3://bucket?path_style=yes', 'bad boolean'],
    ['s3://bucket?max_attempts=0', 'bad attempts'],
  ])('rejects %j (%s) with INVALID_CONFIG', (url) => {
    const err = (() => {
      try {
        createStore(url, { env: {}, secretsDir: noSecrets });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ClipseekError);
    expect(err).toMatchObject({ code: 'INVALID_CONFIG', retryable: false });
  });

  it('rejects half a credential pair', () => {
    expect(() =>
      createStore('s3://bucket', { env: { S3_ACCESS_KEY: 'only-this' }, secretsDir: noSecrets }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});

describe('storageUrlFromEnv', () => {
  it('reads STORAGE_URL, trimmed', () => {
    expect(storageUrlFromEnv({ STORAGE_URL: ' file:///x \n' })).toBe('file:///x');
  });
  it('uses the fallback when unset, and is INVALID_CONFIG without one', () => {
    expect(storageUrlFromEnv({}, 'file:///fallback')).toBe('file:///fallback');
    expect(() => storageUrlFromEnv({ STORAGE_URL: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
