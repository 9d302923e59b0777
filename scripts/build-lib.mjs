// Bundles each function (functions/<name>/handler.ts) into dist/functions/<name>/index.mjs
// and the CLI/gateway into dist/cli.mjs. These bundles are what the container,
// the local gateway and the tests run.
import { existsSync, readdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// Packages that load native or wasm files from their own folder stay external.
const EXTERNAL = ['sharp', '@vladmandic/human', '@tensorflow/*', 'playwright-core', 's3rver'];

export function functionNames() {
  const dir = join(ROOT, 'functions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

/** The esbuild options of every bundle: what the container, the local gateway and the tests run. */
function bundleOptions(entryPoints, quiet) {
  return {
    entryPoints,
    outdir: join(ROOT, 'dist'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    external: EXTERNAL,
    logLevel: quiet ? 'error' : 'info',
    // ESM bundles of CommonJS dependencies need a require().
    banner: {
      js: "import { createRequire as __clipseekCreateRequire } from 'node:module'; const require = __clipseekCreateRequire(import.meta.url);",
    },
  };
}

function functionEntryPoints() {
  return Object.fromEntries(
    functionNames().map((name) => [`functions/${name}/index`, join(ROOT, 'functions', name, 'handler.ts')]),
  );
}

export async function buildFunctions({ quiet = false } = {}) {
  const entryPoints = functionEntryPoints();
  const cli = join(ROOT, 'cli', 'main.ts');
  if (existsSync(cli)) entryPoints.cli = cli;
  const started = Date.now();
  await build(bundleOptions(entryPoints, quiet));
  if (!quiet) console.log(`built ${Object.keys(entryPoints).length} bundles in ${Date.now() - started} ms`);
}

/**
 * What each function's bundle is made of, built in memory: the source files
 * that put code in it (paths relative to the project) and the packages it
 * loads from node_modules at run time (the external ones it imports).
 */
export async function functionBundleContents() {
  const result = await build({
    ...bundleOptions(functionEntryPoints(), true),
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
  });
  const contents = {};
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    const name = /functions\/([^/]+)\/index\.mjs$/.exec(output)?.[1];
    if (!name) continue;
    contents[name] = {
      inputs: Object.entries(meta.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
      packages: [
        ...new Set(meta.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path)),
      ].sort(),
    };
  }
  return contents;
}
