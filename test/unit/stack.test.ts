import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CLIP_STAGES, FUNCTION_STAGES } from '../../common/contracts/pipeline.js';
import { parseDuration } from '../../common/openfaas/duration.js';
import { PROFILES } from '../../common/profiles.js';
import { parseCron } from '../../gateway/cron.js';
import { loadStack } from '../../gateway/stack.js';
import {
  applyProfile,
  FAN_OUT,
  S3_SECRETS,
  SCALE_PROFILES,
  withoutS3Secrets,
} from '../../scripts/apply-profile.mjs';
import { functionBundleContents } from '../../scripts/build-lib.mjs';
import { syncTemplates } from '../../scripts/sync-templates.mjs';

const ROOT = join(import.meta.dirname, '../..');
const stackText = readFileSync(join(ROOT, 'stack.yml'), 'utf8');
// No substitution from this machine's environment: check what is committed.
const stack = loadStack(join(ROOT, 'stack.yml'), { env: {} });
const byName = new Map(stack.functions.map((f) => [f.name, f]));
/**
 * The programs the functions start, where each is started, and the Debian
 * packages that install it (the template's APT_PACKAGES).
 */
const TOOLS = {
  ffmpeg: { source: 'common/ffmpeg/runner.ts', binary: 'ffmpeg', apt: ['ffmpeg'] },
  pocketsphinx: {
    source: 'functions/transcribe-clip/pocketsphinx.ts',
    binary: 'pocketsphinx_continuous',
    apt: ['pocketsphinx', 'pocketsphinx-en-us'],
  },
};
const durationMs = (text: string | undefined) => {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${text}`);
  return ms;
};

describe('stack.yml', () => {
  it('names exactly the functions in functions/, both ways', () => {
    const dirs = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect([...byName.keys()].sort()).toEqual(dirs);
  });

  it('has every stage of the pipeline that is a function, the orchestrator and the sweeper', () => {
    expect([...byName.keys()].sort()).toEqual([...FUNCTION_STAGES, 'orchestrator', 'sweeper'].sort());
  });

  it('builds every function with our template from its own folder', () => {
    expect(stack.stack.provider.name).toBe('openfaas');
    for (const fn of stack.functions) {
      expect(fn.entry.lang, fn.name).toBe('node24-ts');
      expect(fn.entry.handler, fn.name).toBe(`./functions/${fn.name}`);
      expect(fn.entry.build_args.FUNCTION, fn.name).toBe(fn.name);
      expect(fn.script, fn.name).toBe(join(ROOT, 'dist', 'functions', fn.name, 'index.mjs'));
    }
  });

  it("names images $REGISTRY/clipseek-<fn>:$TAG, the tag defaulting to package.json's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const raw = parseYaml(stackText) as { functions: Record<string, { image: string }> };
    const configured = loadStack(join(ROOT, 'stack.yml'), {
      env: { REGISTRY: 'ghcr.io/me', TAG: 'abc1234' },
    });
    for (const fn of stack.functions) {
      const dollar = '$';
      expect(raw.functions[fn.name]!.image, fn.name).toMatch(
        new RegExp(`^\\${dollar}\\{REGISTRY:-[^}]+\\}/clipseek-${fn.name}:\\${dollar}\\{TAG:-${version}\\}$`),
      );
      expect(fn.entry.image, fn.name).toMatch(new RegExp(`^[a-z0-9.:-]+/clipseek-${fn.name}:${version}$`));
      expect(configured.functions.find((f) => f.name === fn.name)!.entry.image).toBe(
        `ghcr.io/me/clipseek-${fn.name}:abc1234`,
      );
    }
  });

  it('gives each image the Debian packages and node_modules its bundle runs, and nothing else', async () => {
    const contents = await functionBundleContents();
    const spawnsProcesses = 'common/process/run.ts';
    for (const [tool, { source, binary }] of Object.entries(TOOLS)) {
      // The marker must really be where the tool is started.
      expect(readFileSync(join(ROOT, source), 'utf8'), tool).toContain(`'${binary}'`);
    }
    for (const fn of stack.functions) {
      const { inputs, packages } = contents[fn.name]!;
      const tools = Object.entries(TOOLS).filter(([, t]) => inputs.includes(t.source));
      // Every bundle that spawns a process runs one of the tools (a new one needs its packages here).
      expect(inputs.includes(spawnsProcesses), fn.name).toBe(tools.length > 0);
      const apt = tools.flatMap(([, t]) => t.apt).sort();
      expect((fn.entry.build_args.APT_PACKAGES ?? '').split(' ').filter(Boolean).sort(), fn.name).toEqual(
        apt,
      );
      // Packages kept external, or required at run time (createRequire), load from node_modules.
      const requires = inputs.some(
        (file) =>
          !file.includes('node_modules') && readFileSync(join(ROOT, file), 'utf8').includes('createRequire('),
      );
      const nodeModules = packages.length > 0 || requires;
      expect(fn.entry.build_args.NODE_MODULES === 'true', fn.name).toBe(nodeModules);
    }
    expect(byName.get('orchestrator')!.entry.build_args).toEqual({ FUNCTION: 'orchestrator' });
    expect(byName.get('sweeper')!.entry.build_args).toEqual({ FUNCTION: 'sweeper' });
  }, 30_000); // an in-memory esbuild of every function: seconds on a busy machine

  it('copies into each build context what the bundle is built from', () => {
    const copy = (stack.stack.configuration as { copy?: string[] } | undefined)?.copy ?? [];
    for (const needed of ['./common', './functions', './scripts', './package.json', './package-lock.json']) {
      expect(copy).toContain(needed);
    }
    for (const path of copy) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });

  it('keeps exec_timeout < read/write_timeout and <= the gateway upstream_timeout < its read/write', () => {
    const gateway = stack.stack['x-gateway'];
    const upstream = durationMs(gateway.upstream_timeout);
    expect(upstream).toBeLessThan(durationMs(gateway.read_timeout));
    expect(upstream).toBeLessThan(durationMs(gateway.write_timeout));
    for (const fn of stack.functions) {
      const env = fn.environment;
      const exec = durationMs(env.exec_timeout);
      expect(exec, fn.name).toBe(fn.execTimeoutMs);
      expect(exec, fn.name).toBeLessThan(durationMs(env.read_timeout));
      expect(exec, fn.name).toBeLessThan(durationMs(env.write_timeout));
      expect(exec, fn.name).toBeLessThanOrEqual(upstream);
    }
  });

  it("gives each stage an exec_timeout no shorter than any profile's stage timeout", () => {
    for (const stage of FUNCTION_STAGES) {
      const longest = Math.max(...Object.values(PROFILES).map((p) => p.run.stage_timeout_s[stage]));
      expect(byName.get(stage)!.execTimeoutMs, stage).toBeGreaterThanOrEqual(longest * 1000);
    }
  });

  it("lets one replica of each stage take all the orchestrator's concurrent calls", () => {
    const concurrent = Number(byName.get('orchestrator')!.environment.MAX_CONCURRENT_INVOCATIONS);
    expect(concurrent).toBeGreaterThan(0);
    for (const stage of FUNCTION_STAGES) {
      expect(byName.get(stage)!.maxInflight, stage).toBeGreaterThanOrEqual(concurrent);
    }
  });

  it('sets scale labels, requests and limits on every function', () => {
    for (const fn of stack.functions) {
      const min = Number(fn.entry.labels['com.openfaas.scale.min']);
      const max = Number(fn.entry.labels['com.openfaas.scale.max']);
      expect(min, fn.name).toBeGreaterThanOrEqual(1);
      expect(max, fn.name).toBeGreaterThanOrEqual(min);
      expect(fn.entry.requests?.memory && fn.entry.limits?.memory, fn.name).toBeTruthy();
      expect(fn.entry.requests?.cpu && fn.entry.limits?.cpu, fn.name).toBeTruthy();
      expect(fn.environment.STORAGE_URL, fn.name).toMatch(/^s3:\/\//);
    }
  });

  it('schedules the sweeper with a valid cron-function annotation, and nothing else', () => {
    const scheduled = stack.functions.filter((f) => f.cron).map((f) => f.name);
    expect(scheduled).toEqual(['sweeper']);
    expect(() => parseCron(byName.get('sweeper')!.cron!.expression)).not.toThrow();
  });

  it('gives the sweeper what the orchestrator sends callbacks with (it resends them after a crash)', () => {
    const orchestrator = byName.get('orchestrator')!;
    const sweeper = byName.get('sweeper')!;
    for (const fn of [orchestrator, sweeper]) {
      expect(fn.entry.secrets, fn.name).toContain('callback-signing-key');
      expect(Object.keys(fn.environment), fn.name).toContain('CALLBACK_ALLOWED_HOSTS');
    }
    for (const name of Object.keys(orchestrator.environment).filter((n) => n.startsWith('CALLBACK_'))) {
      expect(sweeper.environment[name], name).toBe(orchestrator.environment[name]);
    }
  });

  it('documents every secret it names in docs/secrets.md', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'secrets.md'), 'utf8');
    const secrets = new Set(stack.functions.flatMap((f) => f.entry.secrets));
    expect(secrets.size).toBeGreaterThan(0);
    for (const secret of secrets)
      expect(docs, secret).toMatch(new RegExp(`^\\|\\s*\`${secret}\`\\s*\\|`, 'm'));
  });
});

describe('scale profiles (scripts/apply-profile.mjs)', () => {
  const labelsOf = (text: string) =>
    Object.fromEntries(
      Object.entries(
        (parseYaml(text) as { functions: Record<string, { labels: Record<string, unknown> }> }).functions,
      ).map(([name, f]) => [name, f.labels]),
    );

  it('stack.yml as committed is the warm profile', () => {
    expect(labelsOf(applyProfile(stackText, 'warm'))).toEqual(labelsOf(stackText));
  });

  it('cold scales every function to zero', () => {
    for (const [name, labels] of Object.entries(labelsOf(applyProfile(stackText, 'cold')))) {
      expect(labels, name).toMatchObject({ 'com.openfaas.scale.min': 0, 'com.openfaas.scale.zero': true });
    }
  });

  it("burst's per-clip stages are the pipeline's clip stages", () => {
    expect([...FAN_OUT].sort()).toEqual([...CLIP_STAGES].sort());
  });

  it('burst keeps more replicas of the per-clip stages only', () => {
    const labels = labelsOf(applyProfile(stackText, 'burst'));
    expect(labels['detect-objects']).toMatchObject({
      'com.openfaas.scale.min': 2,
      'com.openfaas.scale.max': 10,
    });
    expect(labels.orchestrator).toMatchObject({ 'com.openfaas.scale.min': 1, 'com.openfaas.scale.max': 4 });
  });

  it('keeps everything but the labels, comments included', () => {
    const cold = applyProfile(stackText, 'cold');
    expect(cold).toContain('# Scale profiles');
    const strip = (text: string) => {
      const doc = parseYaml(text) as { functions: Record<string, { labels?: unknown }> };
      for (const fn of Object.values(doc.functions)) delete fn.labels;
      return doc;
    };
    expect(strip(cold)).toEqual(strip(stackText));
    expect(Object.keys(SCALE_PROFILES)).toEqual(['cold', 'warm', 'burst']);
  });

  it('refuses an unknown profile', () => {
    expect(() => applyProfile(stackText, 'lukewarm')).toThrow(/unknown profile/);
  });
});

describe('the IAM variant (apply-profile.mjs --iam): S3 credentials from the SDK default chain', () => {
  type Doc = { functions: Record<string, { secrets?: string[] }> };
  const secretsOf = (text: string) =>
    Object.fromEntries(
      Object.entries((parseYaml(text) as Doc).functions).map(([n, f]) => [n, f.secrets ?? []]),
    );

  it('drops exactly the secrets the S3 store reads', () => {
    const storage = readFileSync(join(ROOT, 'common/storage/index.ts'), 'utf8');
    const read = [...storage.matchAll(/readSecret\('([a-z0-9-]+)'/g)].map((m) => m[1]);
    expect([...S3_SECRETS].sort()).toEqual([...read].sort());
  });

  it.each(Object.keys(SCALE_PROFILES))(
    'of the %s profile names no S3 secret and changes nothing else',
    (name) => {
      const profiled = applyProfile(stackText, name);
      const iam = withoutS3Secrets(profiled);
      const before = secretsOf(profiled);
      const after = secretsOf(iam);
      for (const [fn, secrets] of Object.entries(before)) {
        expect(after[fn], fn).toEqual(secrets.filter((s) => !S3_SECRETS.includes(s)));
      }
      expect(Object.values(after).flat()).toEqual(expect.arrayContaining(['callback-signing-key']));
      const strip = (text: string) => {
        const doc = parseYaml(text) as Doc;
        for (const fn of Object.values(doc.functions)) delete fn.secrets;
        return doc;
      };
      expect(strip(iam)).toEqual(strip(profiled));
      // faas-cli and the local gateway read it as they read stack.yml.
      const dir = mkdtempSync(join(tmpdir(), 'clipseek-iam-'));
      try {
        writeFileSync(join(dir, `stack.${name}.iam.yml`), iam);
        const loaded = loadStack(join(dir, `stack.${name}.iam.yml`), { env: {}, root: ROOT });
        expect(loaded.functions.map((f) => f.name)).toEqual(stack.functions.map((f) => f.name));
        for (const fn of loaded.functions)
          for (const s of S3_SECRETS) expect(fn.entry.secrets, fn.name).not.toContain(s);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('template (templates/node24-ts)', () => {
  const dockerfile = readFileSync(join(ROOT, 'templates/node24-ts/Dockerfile'), 'utf8');
  const env = (name: string) => new RegExp(`^ENV ${name}="([^"]*)"`, 'm').exec(dockerfile)?.[1];

  it('runs the esbuild bundle behind of-watchdog in http mode on the adapter port', () => {
    expect(dockerfile).toMatch(/^FROM .*ghcr\.io\/openfaas\/of-watchdog:[\d.]+ AS watchdog$/m);
    expect(env('mode')).toBe('http');
    expect(env('upstream_url')).toBe(`http://127.0.0.1:${env('PORT')}`);
    expect(env('PORT')).toBe('3000');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not JavaScript
    expect(env('fprocess')).toBe('node /home/app/dist/functions/${FUNCTION}/index.mjs');
    expect(dockerfile).toContain('buildFunctions');
  });

  it('runs Node 24 (LTS) in both stages', () => {
    const stages = [...dockerfile.matchAll(/^FROM \S+ (node:\S+) AS (\w+)$/gm)].map((m) => [m[2], m[1]]);
    expect(stages).toEqual([
      ['build', 'node:24-bookworm'],
      ['ship', 'node:24-bookworm-slim'],
    ]);
  });

  it('installs only the build arguments APT_PACKAGES and NODE_MODULES ask for', () => {
    const ship = dockerfile.slice(dockerfile.indexOf(' AS ship'));
    for (const arg of ['FUNCTION', 'APT_PACKAGES', 'NODE_MODULES'])
      expect(ship).toMatch(new RegExp(`^ARG ${arg}\\b`, 'm'));
    const installs = [...ship.matchAll(/apt-get install [^\n]*/g)].map((m) => m[0]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not JavaScript
    expect(installs).toEqual(['apt-get install -y --no-install-recommends ${APT_PACKAGES} \\']);
    expect(ship).toMatch(/if \[ -n "\$\{APT_PACKAGES\}" \]; then[\s\S]*?apt-get install[\s\S]*?fi/);
    expect(ship).toMatch(/if \[ "\$\{NODE_MODULES\}" = "true" \]; then[\s\S]*?npm ci --omit=dev[\s\S]*?fi/);
    expect(ship.match(/npm ci/g)).toHaveLength(1);
  });

  it('defaults to timeouts that fit media work and keep exec_timeout below read/write', () => {
    const exec = durationMs(env('exec_timeout'));
    expect(exec).toBeGreaterThan(10_000);
    expect(exec).toBeLessThan(durationMs(env('read_timeout')));
    expect(exec).toBeLessThan(durationMs(env('write_timeout')));
  });

  it('declares the language stack.yml uses', () => {
    const template = parseYaml(readFileSync(join(ROOT, 'templates/node24-ts/template.yml'), 'utf8'));
    expect(template.language).toBe('node24-ts');
  });

  it('is synced into ./template by `npm run templates`', () => {
    const root = mkdtempSync(join(tmpdir(), 'clipseek-templates-'));
    try {
      mkdirSync(join(root, 'templates/t1/function'), { recursive: true });
      writeFileSync(join(root, 'templates/t1/Dockerfile'), 'FROM scratch\n');
      writeFileSync(join(root, 'templates/t1/function/handler.ts'), '// new\n');
      mkdirSync(join(root, 'template/t1'), { recursive: true });
      writeFileSync(join(root, 'template/t1/stale.txt'), 'old');
      mkdirSync(join(root, 'template/someone-elses'), { recursive: true });
      expect(syncTemplates({ root, quiet: true })).toEqual(['t1']);
      expect(readFileSync(join(root, 'template/t1/Dockerfile'), 'utf8')).toBe('FROM scratch\n');
      expect(readdirSync(join(root, 'template/t1')).sort()).toEqual(['Dockerfile', 'function']);
      expect(readdirSync(join(root, 'template')).sort()).toEqual(['someone-elses', 't1']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
