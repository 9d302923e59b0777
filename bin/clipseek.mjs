#!/usr/bin/env node
// The `clipseek` command: runs the bundled CLI (dist/cli.mjs), building the
// bundles first when they are missing (a fresh clone). After changing the
// sources, `npm run build` brings them up to date.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'cli.mjs');
if (!existsSync(bundle)) {
  process.stderr.write('clipseek: building dist/ (first run)…\n');
  const { buildFunctions } = await import(pathToFileURL(join(root, 'scripts', 'build-lib.mjs')).href);
  await buildFunctions({ quiet: true });
}
const { cli } = await import(pathToFileURL(bundle).href);
await cli();
