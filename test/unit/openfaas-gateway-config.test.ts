import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClipseekError } from '../../common/errors.js';
import { parseDuration } from '../../common/openfaas/duration.js';
import { errorAnswer } from '../../common/openfaas/error-response.js';
import { nextMinute, parseCron } from '../../gateway/cron.js';
import { substituteEnv } from '../../gateway/envsubst.js';
import { DEFAULT_EXEC_TIMEOUT_MS, loadStack } from '../../gateway/stack.js';

describe('parseDuration (of-watchdog timeouts)', () => {
  it('reads Go durations and bare seconds', () => {
    expect(parseDuration('300s')).toBe(300_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10')).toBe(10_000);
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', 'soon', '10 s', '5x', 's10', undefined])
      expect(parseDuration(bad), String(bad)).toBeUndefined();
  });
});

describe('errorAnswer', () => {
  it('never answers below 400', () => {
    for (const status of [200, 204, 302, 399]) {
      expect(errorAnswer(new ClipseekError('X', 'x', { status })).status, String(status)).toBe(500);
    }
  });
});

describe('parseCron', () => {
  const at = (iso: string) => new Date(iso);

  it('matches */N, *, lists, ranges and numbers', () => {
    const every5 = parseCron('*/5 * * * *');
    expect(every5.matches(at('2030-01-01T10:15:00Z'))).toBe(true);
    expect(every5.matches(at('2030-01-01T10:16:00Z'))).toBe(false);
    const office = parseCron('0,30 9-17 * * 1-5');
    expect(office.matches(at('2030-01-07T09:30:00Z'))).toBe(true); // Monday
    expect(office.matches(at('2030-01-07T18:00:00Z'))).toBe(false);
    expect(office.matches(at('2030-01-06T09:30:00Z'))).toBe(false); // Sunday
    const everyMinute = parseCron('*/1 * * * *');
    expect(everyMinute.matches(at('2030-05-17T23:59:00Z'))).toBe(true);
    const steppedRange = parseCron('10-20/5 * * * *');
    expect([10, 15, 20, 25].map((m) => steppedRange.matches(at(`2030-01-01T00:${m}:00Z`)))).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('treats 7 as Sunday and ORs restricted day-of-month and day-of-week, as cron does', () => {
    expect(parseCron('0 0 * * 7').matches(at('2030-01-06T00:00:00Z'))).toBe(true);
    const firstOrMonday = parseCron('0 0 1 * 1');
    expect(firstOrMonday.matches(at('2030-01-01T00:00:00Z'))).toBe(true); // the 1st, a Tuesday
    expect(firstOrMonday.matches(at('2030-01-07T00:00:00Z'))).toBe(true); // a Monday
    expect(firstOrMonday.matches(at('2030-01-08T00:00:00Z'))).toBe(false);
  });

  it('refuses malformed schedules', () => {
    for (const bad of ['* * * *', '60 * * * *', '*/0 * * * *', 'a * * * *', '5-1 * * * *', '* * 0 * *']) {
      expect(() => parseCron(bad), bad).toThrow(/invalid cron/);
    }
  });

  it('finds the next minute boundary', () => {
    expect(nextMinute(at('2030-01-01T10:15:42.123Z')).toISOString()).toBe('2030-01-01T10:16:00.000Z');
  });
});

describe('loadStack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipseek-stack-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => {
    const file = join(dir, `stack-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, text);
    return file;
  };

  it('substitutes $-brace variables, with :- defaults, like faas-cli', () => {
    const text = ['a=$', '{A} b=$', '{B:-dflt} c=$', '{C:-x}'].join('');
    expect(substituteEnv(text, { A: '1', C: '' })).toBe('a=1 b=dflt c=x');
  });

  // biome-ignore-start lint/suspicious/noTemplateCurlyInString: stack.yml text, not JavaScript
  // drone/envsubst (faas-cli's EvalEnv): its eval_test.go and parse_test.go cases.
  it('reads the rest of what faas-cli reads the way faas-cli does', () => {
    const env = { SET: 'v', EMPTY: '', REGISTRY: 'ghcr.io/me' };
    const cases: Array<[string, string]> = [
      ['$${SET}', '${SET}'], // $$ is a literal $
      ['$$SET and $SET', '$SET and $SET'], // a bare $NAME is not substituted
      ['$$${SET}', '$v'],
      ['${UNSET}|${EMPTY}', '|'],
      ['${UNSET=x} ${EMPTY:=y} ${SET:=z}', 'x y v'], // = and := are :- (unset and empty are one)
      ['${UNSET:-${REGISTRY}/clipseek}', 'ghcr.io/me/clipseek'], // a default may hold ${…}
      ['${UNSET:-${ALSO_UNSET:-a}-b}', 'a-b'],
      ['${UNSET:-a$$b}', 'a$$b'], // no escapes inside a default
      ['re: "a\\/b\\\\c"', 're: "a/b\\c"'], // \/ and \\ outside ${…}
      ['http://x/${SET}}', 'http://x/v}'],
    ];
    for (const [text, want] of cases) expect(substituteEnv(text, env), text).toBe(want);
  });

  it('refuses the forms faas-cli reads unlike the shell, naming the line', () => {
    for (const text of [
      '${A-x}',
      '${A:?x}',
      '${A:+x}',
      '${#A}',
      '${A:1}',
      '${A/a/b}',
      '${A^^}',
      '${}',
      '${A:-x',
    ]) {
      expect(() => substituteEnv(`ok: 1\nbad: ${text}\n`, { A: 'a' }), text).toThrow(
        expect.objectContaining({ code: 'INVALID_STACK', message: expect.stringContaining('line 2') }),
      );
    }
  });

  // biome-ignore-end lint/suspicious/noTemplateCurlyInString: stack.yml text, not JavaScript

  it('reads timeouts, max_inflight, scale.min, cron and the script of each function', () => {
    writeFileSync(join(dir, 'fake.mjs'), '');
    const file = write(`
provider: { name: openfaas }
x-gateway: { upstream_timeout: 2m }
functions:
  bundled:
    handler: ./functions/bundled
    environment: { exec_timeout: 30s, max_inflight: 3, STORAGE_URL: "\${STORE:-file:///x}" }
  fake:
    handler: ./fake.mjs
    labels: { com.openfaas.scale.min: 0 }
    annotations: { topic: cron-function, schedule: "*/2 * * * *" }
`);
    const stack = loadStack(file, { env: { STORE: 's3://b' }, root: '/opt/app' });
    const [bundled, fake] = stack.functions;
    expect(stack.upstreamTimeoutMs).toBe(120_000);
    expect(bundled).toMatchObject({ execTimeoutMs: 30_000, maxInflight: 3, scaleMin: 1, cron: undefined });
    expect(bundled!.environment.STORAGE_URL).toBe('s3://b');
    expect(bundled!.script).toBe('/opt/app/dist/functions/bundled/index.mjs');
    expect(fake).toMatchObject({
      execTimeoutMs: DEFAULT_EXEC_TIMEOUT_MS,
      maxInflight: 0,
      scaleMin: 0,
      cron: { expression: '*/2 * * * *' },
      script: join(dir, 'fake.mjs'),
    });
    expect(loadStack(file, { scripts: { bundled: '/elsewhere/x.mjs' } }).functions[0]!.script).toBe(
      '/elsewhere/x.mjs',
    );
  });

  it('refuses a stack file with bad values, naming the problem', () => {
    const badTimeout = write(
      'provider: { name: openfaas }\nfunctions:\n  f: { environment: { exec_timeout: soon } }\n',
    );
    expect(() => loadStack(badTimeout)).toThrow(/f\.exec_timeout is not a duration/);
    const badProvider = write('provider: { name: lambda }\nfunctions: {}\n');
    expect(() => loadStack(badProvider)).toThrow(/provider/);
  });
});
