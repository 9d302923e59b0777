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
import { applyProfile, FAN_OUT, SCALE_PROFILES } from '../../scripts/apply-profile.mjs';
import { syncTemplates } from '../../scripts/sync-templates.mjs';

const ROOT = join(import.meta.dirname, '../..');
const stackText = readFileSync(join(ROOT, 'stack.yml'), 'utf8');
// No substitution from this machine's environment: check what is committed.
const stack = loadStack(join(ROOT, 'stack.yml'), { env: {} });
const byName = new Map(stack.functions.map((f) => [f.name, f]));
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
      expect(fn.entry.lang, fn.name).toBe('node20-ts');
      expect(fn.entry.handler, fn.name).toBe(`./functions/${fn.name}`);
      expect(fn.entry.image, fn.name).toMatch(new RegExp(`^clipseek/${fn.name}:`));
      expect(fn.entry.build_args.FUNCTION, fn.name).toBe(fn.name);
      expect(fn.script, fn.name).toBe(join(ROOT, 'dist', 'functions', fn.name, 'index.mjs'));
    }
  });

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

describe('template (templates/node20-ts)', () => {
  const dockerfile = readFileSync(join(ROOT, 'templates/node20-ts/Dockerfile'), 'utf8');
  const env = (name: string) => new RegExp(`^ENV ${name}="([^"]*)"`, 'm').exec(dockerfile)?.[1];

  it('runs the esbuild bundle behind of-watchdog in http mode on the adapter port', () => {
    expect(dockerfile).toMatch(/^FROM .*ghcr\.io\/openfaas\/of-watchdog:[\d.]+ AS watchdog$/m);
    expect(dockerfile).toMatch(/^FROM .*node:20-bookworm/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\\\n[^\n]*ffmpeg pocketsphinx pocketsphinx-en-us/);
    expect(env('mode')).toBe('http');
    expect(env('upstream_url')).toBe(`http://127.0.0.1:${env('PORT')}`);
    expect(env('PORT')).toBe('3000');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not JavaScript
    expect(env('fprocess')).toBe('node /home/app/dist/functions/${FUNCTION}/index.mjs');
    expect(dockerfile).toContain('buildFunctions');
  });

  it('defaults to timeouts that fit media work and keep exec_timeout below read/write', () => {
    const exec = durationMs(env('exec_timeout'));
    expect(exec).toBeGreaterThan(10_000);
    expect(exec).toBeLessThan(durationMs(env('read_timeout')));
    expect(exec).toBeLessThan(durationMs(env('write_timeout')));
  });

  it('declares the language stack.yml uses', () => {
    const template = parseYaml(readFileSync(join(ROOT, 'templates/node20-ts/template.yml'), 'utf8'));
    expect(template.language).toBe('node20-ts');
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
