import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexKeys } from '../../common/keys.js';
import { createStore } from '../../common/storage/index.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { type LocalS3Server, startS3Server } from '../helpers/s3-server.js';

/**
 * The `clipseek` command on an S3 bucket (s3rver), with the credentials of
 * IAM deployments: no s3-access-key / s3-secret-key secrets, only what the AWS
 * SDK's default chain finds (here AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 * The same createStore builds every function's store.
 */
let s3: LocalS3Server;
let data: string;

beforeAll(async () => {
  s3 = await startS3Server('cli-bucket');
  data = mkdtempSync(join(tmpdir(), 'clipseek-cli-s3-'));
  const seed = createStore(s3.storageUrl, { env: { S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' } });
  const row = { request_id: 'r_0123456789abcdef', created_at: new Date().toISOString(), query: 'seeded' };
  await seed.put(indexKeys.request(row.request_id), JSON.stringify(row));
});

afterAll(async () => {
  await s3?.stop();
  rmSync(data, { recursive: true, force: true });
});

/** The test's environment with no S3 secret anywhere and the SDK's own switches unset. */
function iamEnv(accessKeyId: string): NodeJS.ProcessEnv {
  const env = cleanEnv({
    STORAGE_URL: s3.storageUrl,
    CLIPSEEK_DATA: data, // holds no secrets/ folder
    OPENFAAS_SECRETS_DIR: join(data, 'none'),
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  for (const name of ['S3_ACCESS_KEY', 'S3_SECRET_KEY', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'])
    delete env[name];
  return env;
}

describe('clipseek on S3 without the S3 secrets', () => {
  it("signs with the SDK default chain's credentials and prints no SDK Node-version warning", async () => {
    const listed = await runCli(['ls', '--json'], { env: iamEnv('S3RVER') });
    expect(listed.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).requests).toHaveLength(1);
    // The key id the chain found is the one that signed: another one is refused.
    const refused = await runCli(['ls', '--json'], { env: iamEnv('SOMEONE-ELSE') });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});
