import type { Detection } from '../../common/contracts/stages.js';
import { CancelledError } from '../../common/errors.js';
import { defineStage } from '../../common/stage.js';
import { decodeFrame } from './decode.js';
import type { ObjectDetector } from './detector.js';
import { summarizeLabels } from './evidence.js';
import { selectDetections } from './select.js';

export interface DetectDeps {
  detector: ObjectDetector;
}

/**
 * detect-objects: objects on the clip's sampled frames (label, score, box,
 * clip-relative time), and per label the time ranges it is seen in and its
 * best score. Threshold, per-label non-max suppression and the per-frame
 * limit come from the profile.
 */
export const detectObjects = defineStage<'detect-objects', DetectDeps>({
  name: 'detect-objects',
  async run(input, deps) {
    const detections: Detection[] = [];
    const frames = [...input.frames].sort((a, b) => a.t - b.t);
    for (const frame of frames) {
      if (deps.signal.aborted)
        throw new CancelledError('detect-objects cancelled', { cause: deps.signal.reason });
      const image = await decodeFrame(await deps.store.getBytes(frame.key), frame.key);
      const candidates = await deps.detector.detect(image);
      for (const d of selectDetections(candidates, input.params)) {
        detections.push({ t: frame.t, label: d.label, score: d.score, box: d.box });
      }
    }
    const labels = summarizeLabels(detections, input.frame_interval_s);
    deps.logger.info(
      {
        clip: input.clip,
        frames: frames.length,
        detections: detections.length,
        labels: labels.map((l) => l.label),
      },
      'objects detected',
    );
    return { clip: input.clip, model: deps.detector.model, detections, labels };
  },
});
