import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: this file is cli/paths.ts when run from source and is
 * bundled into dist/cli.mjs; both sit one folder below the root, where
 * stack.yml and dist/functions/ are.
 */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_STACK_FILE = resolve(ROOT, 'stack.yml');

/** A path as the output shows it: relative to `cwd` when it is below it, else absolute. */
export function shownPath(cwd: string, path: string): string {
  const shown = relative(cwd, path);
  return shown === '' || shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}
