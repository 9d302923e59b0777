import { describe, expect, it } from 'vitest';
import { Profile } from '../../common/contracts/profile.js';
import { InputError } from '../../common/errors.js';
import { PROFILE_NAMES, PROFILES, resolveProfile } from '../../common/profiles.js';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('named profiles', () => {
  it.each(PROFILE_NAMES)('%s is a valid Profile', (name) => {
    expect(Profile.parse(PROFILES[name])).toEqual(PROFILES[name]);
    expect(resolveProfile(name)).toEqual(PROFILES[name]);
  });

  it('fast is cheaper than default, accurate richer', () => {
    expect(PROFILES.fast.transcode.height).toBeLessThan(PROFILES.default.transcode.height);
    expect(PROFILES.accurate.frames.fps).toBeGreaterThan(PROFILES.default.frames.fps);
  });
});

describe('resolveProfile', () => {
  it('applies overrides within bounds and keeps every other value', () => {
    const p = resolveProfile('default', {
      segment: { top_db: 40 },
      transcode: { preset: 'ultrafast' },
      run: { max_attempts: 5, stage_timeout_s: { 'transcode-clip': 60 } },
    });
    expect(p.segment).toEqual({ ...PROFILES.default.segment, top_db: 40 });
    expect(p.transcode).toEqual({ ...PROFILES.default.transcode, preset: 'ultrafast' });
    expect(p.run.max_attempts).toBe(5);
    expect(p.run.stage_timeout_s).toEqual({ ...PROFILES.default.run.stage_timeout_s, 'transcode-clip': 60 });
    expect(p.frames).toEqual(PROFILES.default.frames);
  });

  it('overrides start from the chosen profile', () => {
    expect(resolveProfile('fast', { frames: { thumb_width: 200 } }).frames).toEqual({
      ...PROFILES.fast.frames,
      thumb_width: 200,
    });
  });

  it('empty overrides are the profile itself', () => {
    expect(resolveProfile('accurate', {})).toEqual(PROFILES.accurate);
  });

  it.each([
    ['a huge value', { frames: { fps: 1000 } }],
    ['a negative value', { segment: { pad_s: -1 } }],
    ['a negative timeout', { run: { stage_timeout_s: { 'cut-clips': -5 } } }],
    ['a huge clip count', { run: { max_clips: 1e9 } }],
    ['a fractional integer', { transcode: { crf: 20.5 } }],
    ['a wrong type', { transcode: { height: '720' } }],
    ['an unknown section', { gpu: { enabled: true } }],
    ['an unknown key', { segment: { top_db: 30, extra: 1 } }],
    ['an unknown stage timeout', { run: { stage_timeout_s: { 'mine-bitcoin': 5 } } }],
    ['a bad enum', { transcode: { preset: 'placebo' } }],
    ['min_clip_s above max_clip_s', { segment: { min_clip_s: 30, max_clip_s: 10 } }],
    ['not an object', 'fast please'],
    ['null', null],
  ])('rejects %s with InputError INVALID_OVERRIDES', (_label, overrides) => {
    const err = errorOf(() => resolveProfile('default', overrides));
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'INVALID_OVERRIDES', status: 422 });
  });

  it.each(['nope', '', 'toString', '__proto__', 'constructor', 'DEFAULT'])(
    'rejects profile name %j with UNKNOWN_PROFILE',
    (name) => {
      const err = errorOf(() => resolveProfile(name));
      expect(err).toBeInstanceOf(InputError);
      expect(err).toMatchObject({ code: 'UNKNOWN_PROFILE', details: { known: PROFILE_NAMES } });
    },
  );

  it('hands out copies: changing a resolved profile changes neither PROFILES nor later results', () => {
    const first = resolveProfile('default');
    first.transcode.height = 2160;
    first.run.stage_timeout_s['cut-clips'] = 1;
    expect(PROFILES.default.transcode.height).toBe(360);
    expect(resolveProfile('default').run.stage_timeout_s['cut-clips']).toBe(300);
  });
});
