import { extname, join } from 'node:path';
import type { TranscodeParams } from '../../common/contracts/profile.js';
import { InputError } from '../../common/errors.js';
import { ALIGN_AUDIO_START, WAV_16K_MONO_ARGS } from '../../common/ffmpeg/audio.js';
import { asUnreadable, probeInput } from '../../common/ffmpeg/media-errors.js';
import { type Mp4VideoTrack, readMp4VideoTrack } from '../../common/ffmpeg/mp4-header.js';
import { mainVideoStream, parseSeconds } from '../../common/ffmpeg/probe.js';
import type { FfmpegDeps, FfmpegRunner } from '../../common/ffmpeg/runner.js';
import { evenScaleFilter } from '../../common/ffmpeg/scale.js';
import { CONTENT_TYPES, downloadObject, uploadFile } from '../../common/ffmpeg/transfer.js';
import { defineStage } from '../../common/stage.js';

/**
 * Start the trim this much before the wanted time. ffmpeg keeps frames at or
 * after the seek target; a frame meant to be *at* the start can sit a fraction
 * of a millisecond early after a container rounded its timestamp, and must not
 * be dropped. Well under one frame at any rate we accept (≤ 240 fps).
 */
export const TRIM_EPSILON_S = 0.002;

/**
 * transcode-clip: cuts the exact range out of the clip's piece *while*
 * encoding it (seeking on the decoded frames is frame-accurate; cutting the
 * source that way would cost a second encode) into an H.264/AAC MP4 with
 * +faststart at the profile's height, preset and CRF, plus the range's 16 kHz
 * mono WAV for transcription — both from one ffmpeg run.
 */
export const transcodeClip = defineStage<'transcode-clip', FfmpegDeps>({
  name: 'transcode-clip',
  async run(input, { store, ffmpeg, signal, outputKey }) {
    return ffmpeg.withTempDir(async (dir) => {
      const piece = join(dir, `piece${extname(input.piece_key).replace(/[^.a-z0-9]/gi, '')}`);
      await downloadObject(store, input.piece_key, piece, signal);

      // Seeking with -seek_timestamp uses the piece's own timestamps: the range starts
      // offset_s after the piece's first frame. (cut-clips measured both: no ffprobe here.)
      const seekTo = Math.max(0, input.piece_timestamp_s + input.offset_s - TRIM_EPSILON_S);

      const mp4 = join(dir, 'clip.mp4');
      const wav = join(dir, 'clip.wav');
      // No audio in the source: a silent track (input 1), so every rendition plays the same way.
      const audioMap = input.has_audio ? '0:a:0' : '1:a';
      await ffmpeg
        .run(
          [
            ...['-seek_timestamp', '1', '-ss', seekTo.toFixed(6), '-i', piece],
            ...(input.has_audio ? [] : ['-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo']),
            ...renditionArgs(input.params, '0:v:0', audioMap, input.duration_s, mp4),
            ...wavArgs(audioMap, input.duration_s, wav),
          ],
          { signal },
        )
        .catch((err: unknown) => {
          throw asUnreadable(err);
        });

      // Our own +faststart MP4: its header says what ffprobe would, without starting a process.
      const rendition = (await readMp4VideoTrack(mp4)) ?? (await probeRendition(ffmpeg, mp4, signal));
      if (!rendition?.width || !rendition.height || !rendition.durationS) {
        // ffmpeg encodes nothing, without failing, when the range lies past the piece's end.
        throw new InputError('CLIP_OUT_OF_RANGE', 'the requested range has no frames in this piece', {
          details: { offset_s: input.offset_s, duration_s: input.duration_s },
        });
      }
      const videoKey = outputKey('clip.mp4');
      const audioKey = outputKey('clip.wav');
      await uploadFile(store, videoKey, mp4, CONTENT_TYPES.mp4);
      await uploadFile(store, audioKey, wav, CONTENT_TYPES.wav);
      return {
        clip: input.clip,
        video_key: videoKey,
        audio_key: audioKey,
        duration_s: rendition.durationS,
        width: rendition.width,
        height: rendition.height,
      };
    });
  },
});

/** Output 1: the H.264/AAC MP4 rendition, `durationS` long from the seek point. */
function renditionArgs(
  params: TranscodeParams,
  videoMap: string,
  audioMap: string,
  durationS: number,
  output: string,
): string[] {
  // The profile's height, or the source's if lower, even and at least 2 (see evenScaleFilter).
  return [
    ...['-map', videoMap, '-map', audioMap, '-t', durationS.toFixed(6)],
    ...['-vf', `${evenScaleFilter('height', params.height)},format=yuv420p`],
    ...['-c:v', 'libx264', '-preset', params.preset, '-crf', String(params.crf)],
    ...['-c:a', 'aac', '-b:a', `${params.audio_bitrate_k}k`],
    ...['-movflags', '+faststart', '-f', 'mp4', output],
  ];
}

/** Output 2: the same range as 16 kHz mono WAV, for transcription. */
function wavArgs(audioMap: string, durationS: number, output: string): string[] {
  return [
    '-map',
    audioMap,
    '-t',
    durationS.toFixed(6),
    '-af',
    ALIGN_AUDIO_START,
    ...WAV_16K_MONO_ARGS,
    output,
  ];
}

async function probeRendition(
  ffmpeg: FfmpegRunner,
  mp4: string,
  signal: AbortSignal,
): Promise<Partial<Mp4VideoTrack> | undefined> {
  const video = mainVideoStream(await probeInput(ffmpeg, mp4, signal));
  return video && { width: video.width, height: video.height, durationS: parseSeconds(video.duration) };
}
