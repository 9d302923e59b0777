/**
 * Runs the local gateway from the command line:
 *   npx tsx gateway/main.ts --stack stack.yml --port 8080 --storage file:///tmp/bucket
 * Stops every function on SIGINT/SIGTERM.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readSecret } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { startGateway } from './gateway.js';
import type { BasicAuthCredentials } from './http.js';

const USAGE = `usage: gateway [--stack stack.yml] [--port 8080] [--host 127.0.0.1] [--storage URL]
               [--root DIR] [--only fn1,fn2] [--auth] [--no-cron] [--quiet-functions]

  --storage   STORAGE_URL for every function (default: $STORAGE_URL, else stack.yml's)
  --root      folder holding dist/functions/<name>/index.mjs (default: the stack file's folder)
  --auth      require basic auth (secrets basic-auth-user / basic-auth-password,
              or BASIC_AUTH_USER / BASIC_AUTH_PASSWORD); on by default when --host is not loopback`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: 'string', default: 'stack.yml' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      storage: { type: 'string' },
      root: { type: 'string' },
      only: { type: 'string' },
      auth: { type: 'boolean', default: false },
      'no-cron': { type: 'boolean', default: false },
      'quiet-functions': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const logger = createLogger({ name: 'gateway' });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`bad --port "${values.port}"`);
  const gateway = await startGateway({
    stackFile: resolve(values.stack),
    port,
    host: values.host,
    storageUrl: values.storage ?? process.env.STORAGE_URL,
    root: values.root === undefined ? undefined : resolve(values.root),
    only: values.only?.split(',').map((s) => s.trim()),
    basicAuth: values.auth || !LOOPBACK.has(values.host) ? credentials() : undefined,
    cron: !values['no-cron'],
    functionOutput: values['quiet-functions'] ? 'ignore' : 'inherit',
    logger,
  });
  console.error(`gateway ready at ${gateway.url} (${[...gateway.functions.keys()].join(', ')})`);
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

function credentials(): BasicAuthCredentials {
  const user = readSecret('basic-auth-user');
  const password = readSecret('basic-auth-password');
  if (!user || !password) {
    throw new Error(
      'basic auth needs the basic-auth-user and basic-auth-password secrets (see docs/secrets.md)',
    );
  }
  return { user, password };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
