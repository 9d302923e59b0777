import { z } from 'zod';
import { ClipseekError } from '../errors.js';

/** The parts of ffprobe's JSON (`-of json`) we read; anything else passes through untouched. */
export const ProbeStream = z.looseObject({
  index: z.number(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  time_base: z.string().optional(),
  sample_rate: z.string().optional(),
  channels: z.number().optional(),
  start_time: z.string().optional(),
  duration: z.string().optional(),
  nb_read_packets: z.string().optional(),
  /** Frames of reordering delay: > 0 when the video has B-frames. */
  has_b_frames: z.number().optional(),
  disposition: z.looseObject({ attached_pic: z.number().optional() }).optional(),
  side_data_list: z.array(z.looseObject({ rotation: z.number().optional() })).optional(),
});
export type ProbeStream = z.infer<typeof ProbeStream>;

export const ProbePacket = z.looseObject({
  stream_index: z.number().optional(),
  pts: z.number().optional(),
  pts_time: z.string().optional(),
  duration_time: z.string().optional(),
  flags: z.string().optional(),
});
export type ProbePacket = z.infer<typeof ProbePacket>;

export const ProbeJson = z.looseObject({
  format: z
    .looseObject({
      format_name: z.string().optional(),
      duration: z.string().optional(),
      start_time: z.string().optional(),
      size: z.string().optional(),
    })
    .optional(),
  streams: z.array(ProbeStream).optional(),
  packets: z.array(ProbePacket).optional(),
  /** Present (with `-show_error`) when ffprobe could not open the input: AVERROR code and text. */
  error: z.looseObject({ code: z.number(), string: z.string().optional() }).optional(),
});
export type ProbeJson = z.infer<typeof ProbeJson>;

/** ffprobe printed something that is not the JSON it promised: a bug or a broken binary. */
export function parseProbeOutput(stdout: string): ProbeJson {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (err) {
    throw new ClipseekError('FFPROBE_BAD_OUTPUT', 'ffprobe did not print JSON', {
      status: 500,
      details: { head: stdout.slice(0, 200) },
      cause: err,
    });
  }
  const parsed = ProbeJson.safeParse(raw);
  if (!parsed.success) {
    throw new ClipseekError('FFPROBE_BAD_OUTPUT', 'ffprobe JSON has an unexpected shape', {
      status: 500,
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/** "30000/1001" → 29.97…; "0/0", "N/A" or missing → undefined. */
export function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [num, den] = rate.split('/').map(Number);
  if (num === undefined || !Number.isFinite(num) || num <= 0) return undefined;
  const value = den === undefined ? num : num / den;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** ffprobe's seconds strings ("12.345000", "N/A") → number or undefined. */
export function parseSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

/** The main picture stream: the first video stream that is not cover art. */
export function mainVideoStream(probe: ProbeJson): ProbeStream | undefined {
  return probe.streams?.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
}

export function firstAudioStream(probe: ProbeJson): ProbeStream | undefined {
  return probe.streams?.find((s) => s.codec_type === 'audio');
}

/** Size as shown: phones store portrait video as landscape plus a 90° rotation (ffmpeg applies it when encoding). */
export function displaySize(video: ProbeStream): { width: number | undefined; height: number | undefined } {
  const rotation = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
  const quarterTurn = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  return quarterTurn
    ? { width: video.height, height: video.width }
    : { width: video.width, height: video.height };
}

/** The largest even number ≤ min(a, b), at least 2: encoders want even sizes for 4:2:0 video. */
export function evenAtMost(a: number, b: number): number {
  return Math.max(2, Math.floor(Math.min(a, b) / 2) * 2);
}
