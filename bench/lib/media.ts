/**
 * The benchmark inputs, generated on the spot (and cached in test/.media/ like
 * the test media): 720p30 testsrc2 video, H.264 with a 2 s GOP like a phone or
 * camera file, with espeak-ng speech every 6 s over a low noise floor.
 */
import { type SpeechVideo, speechVideo, type Utterance } from '../../test/helpers/media.js';

export type BenchInput = '60s' | '10min';

const SENTENCES = [
  'a red car drives past the old station',
  'the person with the dog is waiting at the corner',
  'we should review the budget before the meeting',
  'look at the bicycle next to the bus stop',
  'the weather will be sunny with a light breeze',
  'please send the report to the whole team',
  'there is a cat sleeping on the chair',
  'the train leaves at seven in the morning',
];

const SECONDS: Record<BenchInput, number> = { '60s': 60, '10min': 600 };

export function benchUtterances(durationS: number): Utterance[] {
  const out: Utterance[] = [];
  for (let at = 1, i = 0; at + 5 < durationS; at += 6, i++) {
    out.push({ text: SENTENCES[i % SENTENCES.length]!, atS: at });
  }
  return out;
}

export function benchVideo(input: BenchInput): Promise<SpeechVideo> {
  const durationS = SECONDS[input];
  return speechVideo({
    durationS,
    width: 1280,
    height: 720,
    fps: 30,
    gop: 60,
    utterances: benchUtterances(durationS),
    noiseAmplitude: 0.002,
  });
}
