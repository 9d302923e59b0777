/**
 * The whole local stack for e2e tests and benchmarks: the real gateway on the
 * repo's stack.yml, a temp folder-store bucket, the real function bundles from
 * `npm run build` (dist/functions/*), and optionally fake stages
 * (test/fixtures/functions/faulty-stage.ts, bundled on the spot) in place of
 * some or all of the real ones.
 *
 *   const stack = await startStack({ fakeStages: true, env: { LEASE_S: '2' } });
 *   const res = await stack.submit({ video_uri: 'store://uploads/v.mp4', query: 'cars' });
 *   stack.invocations('my-request')   // Map task → calls
 *   await stack.close();
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { FUNCTION_STAGES, type FunctionStageName } from '../../common/contracts/pipeline.js';
import type { RequestState } from '../../common/contracts/state.js';
import { createLogger } from '../../common/logger.js';
import { readState } from '../../common/state/state-store.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { type Gateway, startGateway } from '../../gateway/index.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const FAULTY_STAGE = join(REPO_ROOT, 'test/fixtures/functions/faulty-stage.ts');

export interface StartStackOptions {
  /** Per-function script overrides (absolute paths), applied after the fake stages. */
  scripts?: Record<string, string>;
  /** Added to process.env for the gateway and every function (stack.yml substitutes from it too). */
  env?: NodeJS.ProcessEnv;
  /** Serve these stages (true: all seven) with the fake, fault-injecting stage. */
  fakeStages?: boolean | readonly FunctionStageName[];
  /** Where invocations.log / writes.log go; default a folder in the stack's temp dir (a folder given here is left in place). */
  markerDir?: string;
  /** Run only these functions (default: all of stack.yml). */
  only?: string[];
  /** Run the sweeper on its cron schedule (default false: tests call it). */
  cron?: boolean;
  /** Function processes' stdout/stderr; default 'ignore' unless CLIPSEEK_STACK_OUTPUT=inherit. */
  functionOutput?: 'inherit' | 'ignore';
  /** Gateway log level; default 'silent' unless CLIPSEEK_STACK_OUTPUT=inherit. */
  logLevel?: string;
  restartBackoff?: { baseMs: number; maxMs: number };
  /** Extra `node` flags for every function process (e.g. --cpu-prof for a profile). */
  nodeArgs?: string[];
}

export interface JsonAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Stack {
  gateway: Gateway;
  url: string;
  /** The bucket, as the functions see it. */
  store: FolderStore;
  bucketDir: string;
  /** The stack's temp dir (bucket, markers, bundles); removed by close(). */
  dir: string;
  markerDir: string;
  call(path: string, init?: RequestInit): Promise<Response>;
  /** POST a JSON (or raw string) body to /function/orchestrator and read the JSON answer. */
  submit<T = Record<string, unknown>>(
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<JsonAnswer<T>>;
  /** Fake-stage calls per task ("cut-clips", "transcode-clip/0003"), for one request or all. */
  invocations(requestId?: string): Map<string, number>;
  /** Objects the fake stages wrote, key → times written (writes.log), for one request or all. */
  writes(requestId?: string): Map<string, number>;
  /** Every write the fake stages made, in order: which request's call of which task wrote which key. */
  writeLog(): Array<{ requestId: string; task: string; key: string }>;
  state(requestId: string): Promise<RequestState>;
  /** Every object in the bucket, key → ETag. */
  listing(): Promise<Map<string, string>>;
  pid(functionName: string): number | undefined;
  close(): Promise<void>;
}

export async function startStack(options: StartStackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'clipseek-stack-'));
  const bucketDir = join(dir, 'bucket');
  const markerDir = options.markerDir ?? join(dir, 'markers');
  mkdirSync(bucketDir, { recursive: true });
  mkdirSync(markerDir, { recursive: true });
  const store = new FolderStore(bucketDir);
  const verbose = process.env.CLIPSEEK_STACK_OUTPUT === 'inherit';

  const fakes =
    options.fakeStages === true ? [...FUNCTION_STAGES] : options.fakeStages ? [...options.fakeStages] : [];
  let gateway: Gateway;
  try {
    const fakeScripts = fakes.length > 0 ? await bundleFakeStages(join(dir, 'fake-stages'), fakes) : {};
    gateway = await startGateway({
      stackFile: join(REPO_ROOT, 'stack.yml'),
      root: REPO_ROOT,
      port: 0,
      storageUrl: store.url,
      scripts: { ...fakeScripts, ...options.scripts },
      env: { ...process.env, MARKER_DIR: markerDir, ...options.env },
      // Secrets come from env fallbacks only, never from the machine's /var/openfaas/secrets.
      secretsDir: join(dir, 'no-secrets'),
      ...(options.only ? { only: options.only } : {}),
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      cron: options.cron ?? false,
      functionOutput: options.functionOutput ?? (verbose ? 'inherit' : 'ignore'),
      logger: createLogger({ name: 'stack', level: options.logLevel ?? (verbose ? 'info' : 'silent') }),
      restartBackoff: options.restartBackoff ?? { baseMs: 100, maxMs: 1000 },
      stopGraceMs: 3000,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const call = (path: string, init: RequestInit = {}) => fetch(`${gateway.url}${path}`, init);
  return {
    gateway,
    url: gateway.url,
    store,
    bucketDir,
    dir,
    markerDir,
    call,
    async submit<T>(body: unknown, headers: Record<string, string> = {}) {
      const res = await call('/function/orchestrator', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: parseJson(text) as T };
    },
    invocations: (requestId) => countLines(join(markerDir, 'invocations.log'), requestId),
    writes(requestId) {
      const counts = new Map<string, number>();
      for (const w of readWriteLog(markerDir)) {
        if (requestId === undefined || w.requestId === requestId)
          counts.set(w.key, (counts.get(w.key) ?? 0) + 1);
      }
      return counts;
    },
    writeLog: () => readWriteLog(markerDir),
    state: async (requestId) => (await readState(store, requestId)).state,
    async listing() {
      const out = new Map<string, string>();
      for await (const info of store.listAll('')) out.set(info.key, info.etag);
      return out;
    },
    pid: (name) => gateway.functions.get(name)?.pid,
    async close() {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Bundles faulty-stage.ts once (esbuild, like the real functions: no tsx at
 * run time) and writes one two-line entry script per stage.
 */
async function bundleFakeStages(
  outdir: string,
  stages: FunctionStageName[],
): Promise<Record<string, string>> {
  await build({
    entryPoints: { 'faulty-stage': FAULTY_STAGE },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'error',
    external: ['sharp', '@vladmandic/human', '@tensorflow/*'],
    banner: {
      js: "import { createRequire as __fakeCreateRequire } from 'node:module'; const require = __fakeCreateRequire(import.meta.url);",
    },
  });
  const scripts: Record<string, string> = {};
  for (const stage of stages) {
    const script = join(outdir, `${stage}.mjs`);
    writeFileSync(
      script,
      `import { serveFaultyStage } from './faulty-stage.mjs';\nawait serveFaultyStage('${stage}');\n`,
    );
    scripts[stage] = script;
  }
  return scripts;
}

/**
 * Counts lines of a marker log. invocations.log lines are "<request_id> <task>"
 * (faulty-stage.ts) or "<task>" (fake-stage.ts); with `requestId`, only that
 * request's calls count and keys are task names.
 */
function readWriteLog(markerDir: string): Array<{ requestId: string; task: string; key: string }> {
  const file = join(markerDir, 'writes.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [requestId = '', task = '', key = ''] = line.split(' ');
      return { requestId, task, key };
    });
}

function countLines(file: string, requestId?: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(file)) return counts;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const space = line.indexOf(' ');
    const [id, key] = space < 0 ? [undefined, line] : [line.slice(0, space), line.slice(space + 1)];
    if (requestId !== undefined && id !== requestId) continue;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export { waitFor } from './wait.js';
