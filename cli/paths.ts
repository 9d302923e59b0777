import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: this file is cli/paths.ts when run from source and is
 * bundled into dist/cli.mjs; both sit one folder below the root, where
 * stack.yml and dist/functions/ are.
 */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_STACK_FILE = resolve(ROOT, 'stack.yml');
