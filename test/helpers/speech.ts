/**
 * Speech for transcription tests: real recorded English from Debian's
 * pocketsphinx-testdata (LibriVox, with reference transcripts), speech
 * synthesized by espeak-ng from a fixed script, silence — all as 16 kHz mono
 * 16-bit WAV — and word error rate.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Installed by `pocketsphinx-testdata` (scripts/setup.sh). */
export const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';

export interface ReferenceClip {
  id: string;
  wavPath: string;
  /** The reference transcript, lower case, without <s> markers. */
  reference: string;
}

/** The LibriVox clips and their reference transcripts (`transcription`: "<s> words </s> (id)" per line). */
export async function librivoxClips(): Promise<ReferenceClip[]> {
  const text = await readFile(join(LIBRIVOX_DIR, 'transcription'), 'utf8');
  return text
    .split('\n')
    .map((line) => /^<s>\s*(.*?)\s*<\/s>\s*\((\S+)\)\s*$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[2]!, reference: m[1]!, wavPath: join(LIBRIVOX_DIR, `${m[2]!}.wav`) }));
}

export interface EspeakOptions {
  /** espeak-ng voice; the Klatt variants are the ones pocketsphinx understands best. */
  voice: string;
  /** Words per minute. */
  speed: number;
  /** Extra pause between words, in 10 ms units. */
  wordGap: number;
}

/**
 * Measured on this machine over voices × speeds × gaps: en-us+klatt2 at 170
 * wpm with 100 ms word gaps gives pocketsphinx its lowest error rate on the
 * script below (most default voices come out near 80 % WER).
 */
export const CLEAREST_ESPEAK: EspeakOptions = { voice: 'en-us+klatt2', speed: 170, wordGap: 10 };

/** Speaks `text` with espeak-ng into a 16 kHz mono 16-bit WAV at `outPath`. */
export async function espeakWav(
  text: string,
  outPath: string,
  options: EspeakOptions = CLEAREST_ESPEAK,
): Promise<void> {
  const raw = `${outPath}.espeak.wav`;
  try {
    await exec('espeak-ng', [
      '-v',
      options.voice,
      '-s',
      String(options.speed),
      '-g',
      String(options.wordGap),
      '-w',
      raw,
      text,
    ]);
    await toSpeechWav(['-i', raw], outPath);
  } finally {
    await rm(raw, { force: true });
  }
}

/** `seconds` of digital silence as a 16 kHz mono 16-bit WAV. */
export async function silentWav(outPath: string, seconds: number): Promise<void> {
  await toSpeechWav(['-f', 'lavfi', '-i', `anullsrc=r=16000:cl=mono`, '-t', String(seconds)], outPath);
}

/** Re-encodes any input to what transcribe-clip takes: 16 kHz, mono, 16-bit PCM WAV. */
export async function toSpeechWav(inputArgs: string[], outPath: string): Promise<void> {
  await exec('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    ...inputArgs,
    '-ar',
    '16000',
    '-ac',
    '1',
    '-c:a',
    'pcm_s16le',
    outPath,
  ]);
}

/** Lower-case words, apostrophes kept, everything else a separator: how WER is usually scored. */
export function werWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

export interface WerResult {
  /** (substitutions + deletions + insertions) / reference words. */
  wer: number;
  errors: number;
  referenceWords: number;
}

/** Word error rate: word-level Levenshtein distance over the reference length. */
export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  const ref = werWords(reference);
  const hyp = werWords(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const substitution = previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  const errors = previous[hyp.length]!;
  return {
    wer: ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : errors / ref.length,
    errors,
    referenceWords: ref.length,
  };
}
