import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ClipseekError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ObjectDetector, RawDetection, RgbImage } from './detector.js';

/**
 * CenterNet (COCO-80) from @vladmandic/human on the tfjs wasm backend, fully
 * offline: the weights are read from the installed package and the wasm
 * binaries from the installed @tensorflow/tfjs-backend-wasm.
 *
 * Traps worked around (see COMPONENTS.md): the package's `exports` map does
 * not lead to the Node wasm build, so it is required by file path; the
 * default wasm path and model base are a CDN, so both are set to local
 * folders; and tfjs in Node has no file:// model loader, so one is registered.
 */

export interface HumanDetectorOptions {
  /** Candidates below this never leave the model (the stage applies the profile's own threshold). */
  floorScore?: number;
  logger?: Logger | undefined;
}

const nodeRequire = createRequire(import.meta.url);

/** The few parts of Human's API used here (the package's types do not resolve through its exports map). */
interface HumanInstance {
  version: string;
  tf: TfLike;
  load(): Promise<void>;
  detect(input: unknown): Promise<{ error: string | null; object: HumanObject[] }>;
  models: { stats(): { modelStats: Array<{ name: string; loaded: boolean }> } };
}
interface HumanObject {
  label: string;
  score: number;
  boxRaw: [number, number, number, number];
}
interface TensorLike {
  dispose(): void;
}
interface TfLike {
  getBackend(): string;
  tensor4d(values: Float32Array, shape: [number, number, number, number], dtype: 'float32'): TensorLike;
  io: {
    registerLoadRouter(router: (url: string | string[]) => unknown): void;
    getModelArtifactsForJSON(
      json: unknown,
      loadWeights: (manifest: WeightsGroup[]) => Promise<[unknown[], ArrayBuffer]>,
    ): Promise<unknown>;
  };
}
interface WeightsGroup {
  paths: string[];
  weights: unknown[];
}

/** Where the installed packages keep what the model needs. */
export function humanPaths(): { humanWasmBuild: string; modelsDir: string; wasmDir: string } {
  const dist = dirname(nodeRequire.resolve('@vladmandic/human')); // …/human/dist/human.node.js
  return {
    humanWasmBuild: join(dist, 'human.node-wasm.js'),
    modelsDir: join(dist, '..', 'models'),
    // tfjs joins file names onto this prefix: it must end with a slash.
    wasmDir: `${dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm'))}/`,
  };
}

/**
 * The detector a process uses. The model loads on the first `detect` (once
 * per process; a failed load is retried by the next call), and inferences run
 * one at a time: Human keeps per-call state and the wasm backend is single-threaded.
 */
export function createHumanDetector(options: HumanDetectorOptions = {}): ObjectDetector & {
  /** Loads the model now instead of on the first detect. */
  warmUp(): Promise<void>;
} {
  let loading: Promise<HumanInstance> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let model = 'human/centernet';

  const ready = () => {
    loading ??= loadHuman(options).then(
      (human) => {
        model = `human-${human.version}/centernet`;
        return human;
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };

  const detectNow = async (image: RgbImage): Promise<RawDetection[]> => {
    const human = await ready();
    const pixels = new Float32Array(image.data.length);
    pixels.set(image.data); // 0..255 as float32: what Human's own image pipeline feeds the model
    const input = human.tf.tensor4d(pixels, [1, image.height, image.width, 3], 'float32');
    try {
      const result = await human.detect(input);
      if (result.error) throw new ClipseekError('DETECT_FAILED', `object detection failed: ${result.error}`);
      return result.object.map((o) => ({ label: o.label, score: o.score, box: o.boxRaw }));
    } finally {
      input.dispose();
    }
  };

  return {
    get model() {
      return model;
    },
    async warmUp() {
      await ready();
    },
    detect(image) {
      const run = queue.then(() => detectNow(image));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

async function loadHuman(options: HumanDetectorOptions): Promise<HumanInstance> {
  const paths = humanPaths();
  let human: HumanInstance;
  try {
    const { Human } = nodeRequire(paths.humanWasmBuild) as { Human: new (config: object) => HumanInstance };
    human = new Human({
      backend: 'wasm',
      wasmPath: paths.wasmDir,
      wasmPlatformFetch: false,
      modelBasePath: pathToFileURL(`${paths.modelsDir}/`).href,
      cacheModels: false,
      validateModels: false,
      debug: false,
      warmup: 'none',
      // Every frame is new: no result caching between calls.
      cacheSensitivity: 0,
      filter: { enabled: false },
      face: { enabled: false },
      body: { enabled: false },
      hand: { enabled: false },
      gesture: { enabled: false },
      segmentation: { enabled: false },
      object: {
        enabled: true,
        modelPath: 'centernet.json',
        minConfidence: options.floorScore ?? 0.05,
        // The model emits at most 100 boxes. Human's own NMS ignores labels, so it is
        // switched off (IoU 1) and the stage suppresses per label instead.
        maxDetected: 100,
        iouThreshold: 1,
        skipFrames: 0,
        skipTime: 0,
      },
    });
    registerFileLoader(human.tf, paths.modelsDir);
    await human.load();
  } catch (err) {
    throw unavailable('object detector could not be started', err);
  }
  const stats = human.models.stats().modelStats.find((m) => m.name === 'centernet');
  if (!stats?.loaded) throw unavailable(`CenterNet model did not load from ${paths.modelsDir}`);
  options.logger?.info({ backend: human.tf.getBackend(), version: human.version }, 'CenterNet model loaded');
  return human;
}

const routersRegistered = new WeakSet<TfLike>();

/** Serves file:// model URLs under `modelsDir` from disk (tfjs in Node only knows http). Once per tfjs. */
function registerFileLoader(tf: TfLike, modelsDir: string): void {
  if (routersRegistered.has(tf)) return;
  routersRegistered.add(tf);
  const prefix = pathToFileURL(`${modelsDir}/`).href;
  tf.io.registerLoadRouter((url) => {
    const first = Array.isArray(url) ? url[0] : url;
    if (typeof first !== 'string' || !first.startsWith(prefix)) return null;
    const jsonPath = fileURLToPath(first);
    return {
      load: async () => {
        const json = JSON.parse(await readFile(jsonPath, 'utf8')) as unknown;
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const specs: unknown[] = [];
          const buffers: Buffer[] = [];
          for (const group of manifest) {
            for (const path of group.paths) buffers.push(await readFile(join(dirname(jsonPath), path)));
            specs.push(...group.weights);
          }
          const all = Buffer.concat(buffers);
          return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
        });
      },
    };
  });
}

function unavailable(message: string, cause?: unknown): ClipseekError {
  return new ClipseekError('DETECTOR_UNAVAILABLE', message, { status: 500, retryable: false, cause });
}
