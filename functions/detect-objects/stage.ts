import type { Detection } from '../../common/contracts/stages.js';
import { CancelledError } from '../../common/errors.js';
import { defineStage } from '../../common/stage.js';
import { decodeFrame } from './decode.js';
import type { ObjectDetector, RawDetection } from './detector.js';
import { summarizeLabels } from './evidence.js';
import { selectDetections } from './select.js';
import { applySupportRule, type FrameCandidates } from './support.js';
import { frameViews } from './views.js';

export interface DetectDeps {
  detector: ObjectDetector;
}

/**
 * detect-objects: objects on the clip's sampled frames (label, score, box,
 * clip-relative time), and per label the time ranges it is seen in and its
 * best score. Each frame is shown to the model as the profile's views
 * (letterboxed, or as square tiles; see views.ts), boxes mapped back to the
 * frame; then per-label non-max suppression, the per-frame limit and the
 * temporal support rule (support.ts), all from the profile.
 */
export const detectObjects = defineStage<'detect-objects', DetectDeps>({
  name: 'detect-objects',
  async run(input, deps) {
    const { params } = input;
    const frames = [...input.frames].sort((a, b) => a.t - b.t);
    // Candidates down to the support floor: the temporal rule decides which weak ones count.
    const selection = { ...params, min_score: Math.min(params.min_score, params.support_score) };
    const candidates: FrameCandidates[] = [];
    for (const frame of frames) {
      if (deps.signal.aborted)
        throw new CancelledError('detect-objects cancelled', { cause: deps.signal.reason });
      const image = await decodeFrame(await deps.store.getBytes(frame.key), frame.key);
      const seen: RawDetection[] = [];
      for (const view of frameViews(image, params.views)) {
        for (const d of await deps.detector.detect(view.image)) seen.push({ ...d, box: view.toFrame(d.box) });
      }
      candidates.push({ t: frame.t, detections: selectDetections(seen, selection) });
    }
    const detections: Detection[] = applySupportRule(candidates, params).flatMap((f) =>
      f.detections.map((d) => ({ t: f.t, label: d.label, score: d.score, box: d.box })),
    );
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
