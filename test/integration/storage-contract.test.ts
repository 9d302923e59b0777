import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from '../../common/storage/index.js';
import { startS3Server } from '../helpers/s3-server.js';
import { describeObjectStoreContract } from '../helpers/storage-contract.js';

// The same contract, against the folder store and against the S3 store over
// real HTTP (s3rver in a child process), both built from their STORAGE_URL.

describeObjectStoreContract(
  'folder store',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clipseek-folder-'));
    return {
      store: createStore(`file://${dir}`),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { enforcesConditionalWrites: true },
);

describeObjectStoreContract(
  'S3 store over HTTP (s3rver)',
  async () => {
    const server = await startS3Server('contract-bucket');
    const store = createStore(server.storageUrl, {
      // Credentials the way production gets them: the s3-access-key/s3-secret-key secrets (env fallback).
      env: {
        S3_ACCESS_KEY: server.credentials.accessKeyId,
        S3_SECRET_KEY: server.credentials.secretAccessKey,
      },
      secretsDir: join(tmpdir(), 'clipseek-no-secrets-here'),
    });
    return { store, cleanup: () => server.stop() };
  },
  { enforcesConditionalWrites: false },
);
