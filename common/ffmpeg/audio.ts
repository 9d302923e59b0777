/** Output options for the WAV every audio consumer reads: 16 kHz, mono, 16-bit PCM. */
export const WAV_16K_MONO_ARGS: readonly string[] = [
  '-ac',
  '1',
  '-ar',
  '16000',
  '-c:a',
  'pcm_s16le',
  '-f',
  'wav',
];

/**
 * Audio filter that pads a late-starting audio track with silence, so audio
 * time 0 is the start of the input (without it the WAV would start at the
 * first audio sample and every time in it would be early).
 */
export const ALIGN_AUDIO_START = 'aresample=async=1:first_pts=0';

/** A silent mono 16 kHz source for `-f lavfi -i …`, for videos without audio. */
export const SILENT_AUDIO_LAVFI = 'anullsrc=r=16000:cl=mono';
