// A measuring instrument for benchmarks, loaded into function processes with
// NODE_OPTIONS="--import <this file>": every time the folder store publishes a
// requests/<id>/metadata/state.json (it renames a finished temp file into
// place, once per write) a line goes to $STATE_WRITES_LOG. Nothing else changes.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const log = process.env.STATE_WRITES_LOG;
if (log) {
  const rename = fs.promises.rename;
  fs.promises.rename = async function countedRename(from, to) {
    const result = await rename.call(this, from, to);
    if (String(to).endsWith('/metadata/state.json')) fs.appendFileSync(log, `${to}\n`);
    return result;
  };
  // `import { rename } from 'node:fs/promises'` in the bundles sees the wrapper.
  syncBuiltinESMExports();
}
