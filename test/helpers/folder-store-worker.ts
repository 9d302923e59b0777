// A child process for the folder store's cross-process tests. Bundled by the
// test with esbuild and run with plain node. It prints "ready", waits for a
// "go" line on stdin (so all children start together), does its work and
// prints one JSON line with what happened.
//   increment <root> <key> <times>  — read-modify-write with putIfMatch, retrying conflicts
//   create    <root> <key> <id>     — one putIfAbsent
import { createInterface } from 'node:readline';
import { ConflictError } from '../../common/errors.js';
import { FolderStore } from '../../common/storage/folder-store.js';

const [mode, root, keyArg, arg] = process.argv.slice(2);
if (!mode || !root || !keyArg || !arg) throw new Error('usage: worker <increment|create> <root> <key> <arg>');
const key: string = keyArg;
const store = new FolderStore(root);

async function increment(times: number) {
  let conflicts = 0;
  for (let done = 0; done < times; ) {
    const { value, etag } = await store.getJson<{ n: number }>(key);
    try {
      await store.putIfMatch(key, JSON.stringify({ n: value.n + 1 }), etag, {
        contentType: 'application/json',
      });
      done++;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      conflicts++;
    }
  }
  return { conflicts };
}

async function create(id: string) {
  try {
    await store.putIfAbsent(key, id);
    return { won: true };
  } catch (err) {
    if (err instanceof ConflictError) return { won: false };
    throw err;
  }
}

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();
const result = mode === 'increment' ? await increment(Number(arg)) : await create(arg);
process.stdout.write(`${JSON.stringify(result)}\n`);
