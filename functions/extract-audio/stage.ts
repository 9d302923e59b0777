import { open } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { MediaProbe } from '../../common/contracts/stages.js';
import { InputError, NotFoundError } from '../../common/errors.js';
import { ALIGN_AUDIO_START, SILENT_AUDIO_LAVFI, WAV_16K_MONO_ARGS } from '../../common/ffmpeg/audio.js';
import {
  contentEndS,
  limitsExceeded,
  MEDIA_LIMITS,
  type MediaLimitDeps,
  type MediaLimits,
  videoPacketBudget,
} from '../../common/ffmpeg/limits.js';
import { asUnreadable } from '../../common/ffmpeg/media-errors.js';
import { scanPackets } from '../../common/ffmpeg/packets.js';
import {
  firstAudioStream,
  mainVideoStream,
  type ProbeJson,
  parseSeconds,
} from '../../common/ffmpeg/probe.js';
import type { FfmpegDeps, FfmpegRunner } from '../../common/ffmpeg/runner.js';
import { SNIFF_BYTES, sniffContainer } from '../../common/ffmpeg/sniff.js';
import { CONTENT_TYPES, downloadObject, uploadFile } from '../../common/ffmpeg/transfer.js';
import { defineStage } from '../../common/stage.js';
import { describeMedia } from './media-probe.js';

/**
 * Decoded audio this much shorter than the stream's declared length means the
 * file ends early (a truncated upload): ffmpeg only warns about that.
 */
const TRUNCATION_TOLERANCE_S = 0.5;
/** Decoded audio this close to the bound it was decoded to had more to give. */
const BOUND_REACHED_TOLERANCE_S = 0.05;

/**
 * extract-audio: checks the source is a video we can read (ffprobe → MediaProbe),
 * then writes its audio as a 16 kHz mono WAV — or a silent track of the same
 * length when the video has none. Bad input fails before anything is written.
 * The duration accepted is the one the header declares: video past it (a
 * look at the packets after the declared end) or audio past it (decoding
 * stops there) is refused as MEDIA_LIMITS_EXCEEDED.
 */
export const extractAudio = defineStage<'extract-audio', FfmpegDeps & MediaLimitDeps>({
  name: 'extract-audio',
  async run(input, { store, ffmpeg, signal, logger, outputKey, limits = MEDIA_LIMITS }) {
    const info = await store.head(input.source_key);
    if (!info) throw new NotFoundError('SOURCE_NOT_FOUND', `no source video at ${input.source_key}`);
    if (info.size === 0) throw new InputError('EMPTY_INPUT', 'the source file is empty (0 bytes)');

    return ffmpeg.withTempDir(async (dir) => {
      const source = join(dir, `source${safeExtension(input.source_key)}`);
      await downloadObject(store, input.source_key, source, signal);
      const probeJson = await probeSource(ffmpeg, source, signal);
      const probe = describeMedia(probeJson, info.size, limits);
      await rejectVideoPastEnd(ffmpeg, source, probeJson, probe.duration_s, limits, signal);

      const wav = join(dir, 'audio.wav');
      const audioStream = probe.audio ? firstAudioStream(probeJson) : undefined;
      if (audioStream) {
        const endS = contentEndS(probe.duration_s);
        await decodeOrReject(ffmpeg, extractArgs(source, audioStream.index, endS, wav), signal);
        await checkDecodedLength(ffmpeg, wav, parseSeconds(audioStream.duration), endS, signal);
      } else {
        logger.info({ duration_s: probe.duration_s }, 'no audio track: writing a silent one');
        await ffmpeg.run(silenceArgs(probe.duration_s, wav), { signal });
      }
      const audioKey = outputKey('audio.wav');
      await uploadFile(store, audioKey, wav, CONTENT_TYPES.wav);
      return { probe, audio_key: audioKey, has_audio: audioStream !== undefined };
    });
  },
});

/** The audio as WAV, never longer than `endS`: a header cannot make it hours long. */
function extractArgs(source: string, streamIndex: number, endS: number, wav: string): string[] {
  return [
    ...['-i', source, '-map', `0:${streamIndex}`, '-af', ALIGN_AUDIO_START],
    ...['-t', endS.toFixed(6), ...WAV_16K_MONO_ARGS, wav],
  ];
}

function silenceArgs(durationS: MediaProbe['duration_s'], wav: string): string[] {
  return ['-f', 'lavfi', '-i', SILENT_AUDIO_LAVFI, '-t', durationS.toFixed(6), ...WAV_16K_MONO_ARGS, wav];
}

/**
 * Refuses files that are not a container we accept before ffprobe sees them
 * (UNSUPPORTED_FORMAT), and reports a recognised container ffprobe cannot
 * open as damaged (UNREADABLE_MEDIA).
 */
async function probeSource(ffmpeg: FfmpegRunner, source: string, signal: AbortSignal): Promise<ProbeJson> {
  const container = sniffContainer(await readHead(source, SNIFF_BYTES));
  if (!container) {
    throw new InputError('UNSUPPORTED_FORMAT', 'the source is not a video container this service reads', {
      details: { accepted: 'mp4/mov, mkv/webm, avi, mpeg-ts, flv, mpeg-ps, asf' },
    });
  }
  try {
    return await ffmpeg.probe(source, { signal });
  } catch (err) {
    throw asUnreadable(err, { container });
  }
}

/** ffmpeg exiting with an error on a file that probed fine: the file is damaged. */
async function decodeOrReject(ffmpeg: FfmpegRunner, args: string[], signal: AbortSignal): Promise<void> {
  try {
    await ffmpeg.run(args, { signal });
  } catch (err) {
    throw asUnreadable(err);
  }
}

/**
 * Video packets after the declared end mean the header understates the file
 * (a crafted Duration, say). Demuxing only, from the last keyframe before
 * the declared end: a GOP or so of packets on an honest file.
 */
async function rejectVideoPastEnd(
  ffmpeg: FfmpegRunner,
  source: string,
  probeJson: ProbeJson,
  durationS: number,
  limits: MediaLimits,
  signal: AbortSignal,
): Promise<void> {
  const video = mainVideoStream(probeJson);
  if (!video) return; // describeMedia refused it already
  const originS = parseSeconds(probeJson.format?.start_time) ?? 0;
  await scanPackets(ffmpeg, source, {
    streamIndex: video.index,
    fromS: originS + durationS,
    endS: originS + contentEndS(durationS),
    maxPackets: videoPacketBudget(limits, durationS),
    signal,
  }).catch((err: unknown) => {
    throw asUnreadable(err);
  });
}

/** The WAV must be as long as the audio stream declares (else truncated), and must not have reached `endS`. */
async function checkDecodedLength(
  ffmpeg: FfmpegRunner,
  wav: string,
  declaredS: number | undefined,
  endS: number,
  signal: AbortSignal,
): Promise<void> {
  const decodedS = parseSeconds((await ffmpeg.probe(wav, { signal })).format?.duration) ?? 0;
  if (decodedS >= endS - BOUND_REACHED_TOLERANCE_S) {
    throw limitsExceeded('the audio lasts longer than the file declares', {
      content_end_s: endS,
      decoded_audio_s: decodedS,
    });
  }
  if (declaredS === undefined) return; // e.g. Matroska declares no per-stream duration
  if (decodedS + TRUNCATION_TOLERANCE_S < declaredS) {
    throw new InputError('UNREADABLE_MEDIA', 'the source file ends before its audio does: it is truncated', {
      details: { declared_audio_s: declaredS, decoded_audio_s: decodedS },
    });
  }
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Keeps a plain extension (a hint some demuxers use); anything odd is dropped. */
function safeExtension(key: string): string {
  const ext = extname(key).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(ext) ? ext : '';
}
