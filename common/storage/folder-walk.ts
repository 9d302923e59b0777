import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isCode } from './key-lock.js';

/**
 * Yields the keys of the regular files under `root` that start with `prefix`
 * and sort after `after`, in S3 order (byte-wise by full key).
 *
 * A depth-first walk gives full-key order if a directory `x` is sorted as
 * `x/`: then `a-c` ('-' is 0x2d) comes before everything under `a/` (0x2f).
 * Names in `skipTopLevel` (the store's own bookkeeping) are never listed.
 */
export async function* walkKeys(
  root: string,
  prefix: string,
  after: string | undefined,
  skipTopLevel: string,
): AsyncGenerator<string> {
  // Start at the deepest directory the prefix names completely.
  const slash = prefix.lastIndexOf('/');
  const startDir = slash < 0 ? '' : prefix.slice(0, slash + 1);
  yield* walkDir(root, startDir, prefix, after, skipTopLevel);
}

async function* walkDir(
  root: string,
  dirKey: string, // '' or ends with '/'
  prefix: string,
  after: string | undefined,
  skipTopLevel: string,
): AsyncGenerator<string> {
  const entries = await readSorted(join(root, dirKey), dirKey === '' ? skipTopLevel : undefined);
  for (const { name, isDir } of entries) {
    const key = dirKey + name + (isDir ? '/' : '');
    if (!couldMatchPrefix(key, prefix, isDir)) continue;
    if (isDir) {
      // Skip a whole folder whose keys all sort at or before `after`.
      if (after !== undefined && key < after && !after.startsWith(key)) continue;
      yield* walkDir(root, key, prefix, after, skipTopLevel);
    } else if (after === undefined || key > after) {
      yield key;
    }
  }
}

function couldMatchPrefix(key: string, prefix: string, isDir: boolean): boolean {
  if (key.startsWith(prefix)) return true;
  return isDir && prefix.startsWith(key);
}

async function readSorted(
  dir: string,
  skip: string | undefined,
): Promise<{ name: string; isDir: boolean }[]> {
  const entries: { name: string; isDir: boolean; sortName: string }[] = [];
  try {
    // One readdir call: a walk visits a folder per video in the index, so each call counts.
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name === skip) continue;
      if (!e.isDirectory() && !e.isFile()) continue;
      const isDir = e.isDirectory();
      entries.push({ name: e.name, isDir, sortName: isDir ? `${e.name}/` : e.name });
    }
  } catch (err) {
    // A missing folder is an empty listing; one deleted mid-walk likewise.
    if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) return [];
    throw err;
  }
  entries.sort((a, b) => (a.sortName < b.sortName ? -1 : a.sortName > b.sortName ? 1 : 0));
  return entries;
}
