/**
 * The Porter stemmer (M. F. Porter, 1980), steps 1–5, for lower-case English
 * words. Query terms and transcript words go through the same function, so
 * "budgets", "budgeting" and "budget" meet at "budget"; the stems need not be
 * real words. Words of one or two letters are returned unchanged.
 */
export function stem(word: string): string {
  if (word.length <= 2 || !/^[a-z]+$/.test(word)) return word;
  let w = word;
  w = step1a(w);
  w = step1b(w);
  w = step1c(w);
  w = replaceSuffix(w, STEP2, 0);
  w = replaceSuffix(w, STEP3, 0);
  w = step4(w);
  w = step5(w);
  return w;
}

const isVowelAt = (w: string, i: number): boolean => {
  const c = w[i];
  if (c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u') return true;
  // 'y' is a vowel after a consonant ("happy"), a consonant at the start or after a vowel ("yes", "toy").
  return c === 'y' && i > 0 && !isVowelAt(w, i - 1);
};

/** Porter's m: the number of vowel–consonant sequences in `stemPart`. */
function measure(stemPart: string): number {
  let m = 0;
  let prevVowel = false;
  for (let i = 0; i < stemPart.length; i++) {
    const vowel = isVowelAt(stemPart, i);
    if (!vowel && prevVowel) m++;
    prevVowel = vowel;
  }
  return m;
}

const hasVowel = (s: string): boolean => [...s].some((_, i) => isVowelAt(s, i));

const endsDoubleConsonant = (s: string): boolean =>
  s.length >= 2 && s.at(-1) === s.at(-2) && !isVowelAt(s, s.length - 1);

/** Consonant–vowel–consonant at the end, the last not w, x or y ("hop", not "snow"). */
const endsCvc = (s: string): boolean => {
  const n = s.length;
  if (n < 3) return false;
  const last = s[n - 1]!;
  return (
    !isVowelAt(s, n - 1) && isVowelAt(s, n - 2) && !isVowelAt(s, n - 3) && !['w', 'x', 'y'].includes(last)
  );
};

function step1a(w: string): string {
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ies')) return w.slice(0, -2);
  if (w.endsWith('ss')) return w;
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

function step1b(w: string): string {
  if (w.endsWith('eed')) return measure(w.slice(0, -3)) > 0 ? w.slice(0, -1) : w;
  for (const suffix of ['ed', 'ing']) {
    if (!w.endsWith(suffix)) continue;
    const base = w.slice(0, -suffix.length);
    if (!hasVowel(base)) return w;
    if (base.endsWith('at') || base.endsWith('bl') || base.endsWith('iz')) return `${base}e`;
    if (endsDoubleConsonant(base) && !/[lsz]$/.test(base)) return base.slice(0, -1);
    if (measure(base) === 1 && endsCvc(base)) return `${base}e`;
    return base;
  }
  return w;
}

function step1c(w: string): string {
  return w.endsWith('y') && hasVowel(w.slice(0, -1)) ? `${w.slice(0, -1)}i` : w;
}

const STEP2: ReadonlyArray<[string, string]> = [
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['izer', 'ize'],
  ['abli', 'able'],
  ['alli', 'al'],
  ['entli', 'ent'],
  ['eli', 'e'],
  ['ousli', 'ous'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['aliti', 'al'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
];

const STEP3: ReadonlyArray<[string, string]> = [
  ['icate', 'ic'],
  ['ative', ''],
  ['alize', 'al'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
];

/** Replaces the longest matching suffix whose stem has measure > minMeasure. */
function replaceSuffix(w: string, rules: ReadonlyArray<[string, string]>, minMeasure: number): string {
  let best: [string, string] | undefined;
  for (const rule of rules) {
    if (w.endsWith(rule[0]) && (!best || rule[0].length > best[0].length)) best = rule;
  }
  if (!best) return w;
  const base = w.slice(0, -best[0].length);
  return measure(base) > minMeasure ? base + best[1] : w;
}

const STEP4 = [
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'ion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
];

function step4(w: string): string {
  let suffix: string | undefined;
  for (const s of STEP4) if (w.endsWith(s) && (!suffix || s.length > suffix.length)) suffix = s;
  if (!suffix) return w;
  const base = w.slice(0, -suffix.length);
  if (measure(base) <= 1) return w;
  if (suffix === 'ion' && !/[st]$/.test(base)) return w;
  return base;
}

function step5(w: string): string {
  let out = w;
  if (out.endsWith('e')) {
    const base = out.slice(0, -1);
    const m = measure(base);
    if (m > 1 || (m === 1 && !endsCvc(base))) out = base;
  }
  if (measure(out) > 1 && out.endsWith('ll')) out = out.slice(0, -1);
  return out;
}
