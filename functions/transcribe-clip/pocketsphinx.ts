import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Word } from '../../common/contracts/stages.js';
import { CancelledError, InputError, TimeoutError } from '../../common/errors.js';
import { describeExit, type ProcessEnd, runProcess, succeeded } from '../../common/process/run.js';
import { TranscribeFailedError, TranscriberUnavailableError } from './errors.js';
import { languageCode, type TranscribeOptions, type Transcriber, type Transcript } from './transcriber.js';

/** Far more than any transcript prints; a runaway process is stopped rather than filling memory. */
const MAX_STDOUT_CHARS = 32 * 1024 * 1024;

/** Where Debian's pocketsphinx-en-us puts the US English model. */
export const DEBIAN_EN_US_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketsphinxOptions {
  /** The `pocketsphinx_continuous` binary. */
  binary?: string;
  /** Folder holding `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  timeoutMs?: number;
}

/**
 * Offline speech to text with Debian's pocketsphinx (CMU Sphinx) and its US
 * English model: `pocketsphinx_continuous -time yes` prints each utterance's
 * words with start/end seconds and a posterior probability.
 */
export class PocketsphinxTranscriber implements Transcriber {
  readonly engine = 'pocketsphinx-en-us';
  private readonly binary: string;
  private readonly hmm: string;
  private readonly lm: string;
  private readonly dict: string;
  private readonly timeoutMs: number;

  constructor(options: PocketsphinxOptions = {}) {
    const dir = options.modelDir ?? DEBIAN_EN_US_MODEL_DIR;
    this.binary = options.binary ?? 'pocketsphinx_continuous';
    this.hmm = join(dir, 'en-us');
    this.lm = join(dir, 'en-us.lm.bin');
    this.dict = join(dir, 'cmudict-en-us.dict');
    this.timeoutMs = options.timeoutMs ?? 240_000;
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Transcript> {
    if (languageCode(options.language) !== 'en') {
      throw new InputError(
        'UNSUPPORTED_LANGUAGE',
        `pocketsphinx here only has an English model, not "${options.language}"`,
        {
          details: { language: options.language, engine: this.engine },
        },
      );
    }
    await this.assertModelInstalled();
    const { end, stdout, stderrTail } = await runProcess({
      path: this.binary,
      args: ['-infile', wavPath, '-time', 'yes', '-hmm', this.hmm, '-lm', this.lm, '-dict', this.dict],
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      maxStdoutChars: MAX_STDOUT_CHARS,
    });
    if (!succeeded(end)) {
      throw engineError(end, { path: this.binary, stderrTail, signal: options.signal });
    }
    const words = parsePocketsphinxTimes(stdout);
    return { engine: this.engine, text: words.map((w) => w.word).join(' '), words };
  }

  private async assertModelInstalled(): Promise<void> {
    for (const path of [this.hmm, this.lm, this.dict]) {
      try {
        await access(path);
      } catch (err) {
        throw new TranscriberUnavailableError(
          `pocketsphinx model file missing: ${path} (install pocketsphinx-en-us)`,
          {
            details: { path },
            cause: err,
          },
        );
      }
    }
  }
}

/**
 * Why the engine process did not succeed, as transcribe-clip's errors:
 * TranscriberUnavailableError (cannot start), TimeoutError TRANSCRIBE_TIMEOUT,
 * CancelledError or TranscribeFailedError.
 */
function engineError(
  end: ProcessEnd,
  run: { path: string; stderrTail: string; signal?: AbortSignal | undefined },
): Error {
  switch (end.kind) {
    case 'spawn-failed':
      return new TranscriberUnavailableError(`speech engine could not be started (${run.path})`, {
        details: { path: run.path },
        cause: end.error,
      });
    case 'timeout':
      return new TimeoutError(
        'TRANSCRIBE_TIMEOUT',
        `speech engine ran past ${end.timeoutMs} ms and was killed`,
        {
          details: { timeout_ms: end.timeoutMs },
        },
      );
    case 'aborted':
      return end.started
        ? new CancelledError('transcription cancelled', { cause: run.signal?.reason })
        : new CancelledError('transcription cancelled before it started');
    case 'overflow':
      return new TranscribeFailedError('speech engine printed more than expected', { retryable: false });
    case 'exited':
      // Killed by a signal we did not send (e.g. the OOM killer): another attempt may have room.
      return new TranscribeFailedError(`speech engine ${describeExit(end)}`, {
        retryable: end.signal !== null,
        details: { exit_code: end.exitCode, signal: end.signal, stderr_tail: run.stderrTail },
      });
  }
}

// "word start end posterior", one per line after each utterance's hypothesis line.
const TIMED_WORD = /^(\S+)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/i;

/**
 * Parses `-time yes` output. Drops what is not a word: sentence and silence
 * markers (<s>, </s>, <sil>), fillers ([NOISE], [SPEECH], ++UH++), and strips
 * the "(2)" alternative-pronunciation suffix ("and(2)" → "and").
 */
export function parsePocketsphinxTimes(stdout: string): Word[] {
  const words: Word[] = [];
  for (const line of stdout.split('\n')) {
    const m = TIMED_WORD.exec(line.trim());
    if (!m) continue;
    const token = m[1]!;
    if (/^<.*>$/.test(token) || /^\[.*\]$/.test(token) || /^\+\+.*\+\+$/.test(token)) continue;
    const word = token.replace(/\(\d+\)$/, '');
    if (word === '') continue;
    const confidence = Math.min(1, Math.max(0, Number(m[4])));
    words.push({ word, start: Number(m[2]), end: Number(m[3]), confidence });
  }
  return words;
}
