import type { Word } from '../../common/contracts/stages.js';

export interface TranscribeOptions {
  /** Aborts the engine (kills the process, cancels the HTTP call). */
  signal?: AbortSignal | undefined;
  /** The profile's language, e.g. "en-us". */
  language: string;
}

/** What an engine heard. Word times are seconds from the start of the file. */
export interface Transcript {
  engine: string;
  text: string;
  words: Word[];
}

/**
 * A speech-to-text engine. Implementations: PocketsphinxTranscriber (offline,
 * the default) and HttpTranscriber (any OpenAI-compatible
 * /v1/audio/transcriptions server). Silence yields no words and empty text,
 * never a placeholder.
 */
export interface Transcriber {
  readonly engine: string;
  transcribe(wavPath: string, options: TranscribeOptions): Promise<Transcript>;
}

/** "en", "en-us", "en-gb" … → "en": the part engines understand. */
export const languageCode = (language: string): string => language.toLowerCase().split('-')[0]!;
