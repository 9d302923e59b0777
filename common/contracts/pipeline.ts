/**
 * The pipeline, one row per stage. The stage names, which stages run once per
 * request and which once per clip, what runs after what, the order ready tasks
 * start in and each stage's default call timeout are all read from here.
 *
 *   copy-source → extract-audio → segment-speech → cut-clips → per clip:
 *     transcode-clip → (transcribe-clip ∥ sample-frames → detect-objects)
 *   (cut-clips reads copy-source's output too)
 *
 * Rows are in the order stages are shown (CLI, report, schemas), and a row
 * comes after every stage it runs after (test/unit/pipeline.test.ts).
 *
 * Adding a stage: a row here; its contract in STAGE_CONTRACTS (stages.ts); how
 * the orchestrator builds its input from its dependencies' outputs (INPUTS in
 * functions/orchestrator/dag.ts); its function folder and stack.yml entry (a
 * row the orchestrator runs itself: its effect in LocalTasks, task-runner.ts).
 * TypeScript or a test points at each of them once the row exists.
 */
export type StageRow<Name extends string = string> = StageShape<Name> & (FunctionRow | OrchestratorRow);

/** An OpenFaaS function (functions/<stage>/) that the orchestrator calls through the gateway. */
interface FunctionRow {
  readonly runs: 'function';
  /** Seconds a call may take unless a profile or a request says otherwise (run.stage_timeout_s). */
  readonly timeout_s: number;
}

/**
 * Run inside the orchestrator's process (task-runner.ts LocalTasks), so an
 * attempt dies with its driver: one left RUNNING counts as spent. Its retries
 * follow the orchestrator's SOURCE_ATTEMPTS and SOURCE_BACKOFF_MS doubling up
 * to SOURCE_BACKOFF_MAX_MS, not the profile's, and nobody drives the request
 * while it waits: the driver lets it go and the sweeper resumes it after
 * retry_at (a remote source that is down is down for minutes, not for a
 * stage's sub-second backoff).
 */
interface OrchestratorRow {
  readonly runs: 'orchestrator';
  readonly retry: 'source';
  /** The cause a request fails with when every attempt was interrupted (its driver died during each). */
  readonly interrupted: string;
}

interface StageShape<Name extends string> {
  /** `request`: one task per request. `clip`: one task per clip, created once the clips are known. */
  readonly scope: 'request' | 'clip';
  /** The stages whose outputs its input is built from; for a clip stage, a clip stage here means the same clip. */
  readonly after: readonly Name[];
  /** Among ready tasks of one rank, the lower starts first (ready-queue.ts). */
  readonly order: number;
  /** A clip stage's tasks rank this many clips earlier than their clip (ready-queue.ts). */
  readonly clipsAhead?: number;
  /**
   * Part of every task digest (manifests.ts taskDigest): bump it when the stage's
   * output for the same input changes, so results made by the old code are not reused.
   */
  readonly version: number;
}

/** How many clips ahead of the rest transcodes run (best of 0–4 on the 60 s bench input). */
export const TRANSCODE_LEAD = 2;

/** Checks that every `after` names a row of the same table. */
const pipeline = <const T extends { readonly [S in keyof T]: StageRow<Extract<keyof T, string>> }>(rows: T) =>
  rows;

export const PIPELINE = pipeline({
  // The source, copied into the request's input/ (hashed as it streams in).
  'copy-source': {
    scope: 'request',
    after: [],
    order: 0,
    runs: 'orchestrator',
    retry: 'source',
    interrupted: 'SOURCE_COPY_INTERRUPTED',
    version: 1,
  },
  'extract-audio': {
    scope: 'request',
    after: ['copy-source'],
    order: 1,
    runs: 'function',
    timeout_s: 300,
    version: 1,
  },
  'segment-speech': {
    scope: 'request',
    after: ['extract-audio'],
    order: 2,
    runs: 'function',
    timeout_s: 120,
    version: 1,
  },
  'cut-clips': {
    scope: 'request',
    after: ['copy-source', 'segment-speech'],
    order: 3,
    runs: 'function',
    timeout_s: 300,
    version: 1,
  },
  'transcode-clip': {
    scope: 'clip',
    after: ['cut-clips'],
    order: 4,
    clipsAhead: TRANSCODE_LEAD,
    runs: 'function',
    timeout_s: 300,
    version: 1,
  },
  // Within a clip, frames → detection before transcription, which runs in its own processes.
  'transcribe-clip': {
    scope: 'clip',
    after: ['transcode-clip'],
    order: 7,
    runs: 'function',
    timeout_s: 300,
    version: 1,
  },
  'sample-frames': {
    scope: 'clip',
    after: ['transcode-clip'],
    order: 5,
    runs: 'function',
    timeout_s: 120,
    version: 1,
  },
  'detect-objects': {
    scope: 'clip',
    after: ['sample-frames'],
    order: 6,
    runs: 'function',
    timeout_s: 300,
    version: 1,
  },
});

type Pipeline = typeof PIPELINE;
/** The rows' names (stages.ts's StageName, the zod enum of them, is what the rest of the code uses). */
type StageName = keyof Pipeline;
export type RequestStageName = {
  [S in StageName]: Pipeline[S]['scope'] extends 'request' ? S : never;
}[StageName];
export type ClipStageName = Exclude<StageName, RequestStageName>;
/** The stages that are OpenFaaS functions (a folder in functions/, an entry in stack.yml). */
export type FunctionStageName = {
  [S in StageName]: Pipeline[S]['runs'] extends 'function' ? S : never;
}[StageName];
/** The stages the orchestrator runs itself. */
export type LocalStageName = Exclude<StageName, FunctionStageName>;
/** The stages whose outputs stage S's input is built from. */
export type DependencyOf<S extends StageName> = Pipeline[S]['after'][number];
/** Request stages that clip stages run after: when one succeeds, the clips fan out. */
export type FanOutStageName = {
  [S in ClipStageName]: Extract<DependencyOf<S>, RequestStageName>;
}[ClipStageName];

/** The rows with their optional fields, for code that reads any stage's row. */
export const ROWS: Readonly<Record<StageName, StageRow<StageName>>> = PIPELINE;

export const STAGE_NAMES = Object.keys(PIPELINE) as [StageName, ...StageName[]];
export const REQUEST_STAGES = STAGE_NAMES.filter((s) => ROWS[s].scope === 'request') as RequestStageName[];
export const CLIP_STAGES = STAGE_NAMES.filter((s) => ROWS[s].scope === 'clip') as ClipStageName[];
export const FUNCTION_STAGES = STAGE_NAMES.filter((s) => ROWS[s].runs === 'function') as [
  FunctionStageName,
  ...FunctionStageName[],
];

export const isFunctionStage = (stage: StageName): stage is FunctionStageName =>
  ROWS[stage].runs === 'function';

export const isClipStage = (stage: StageName): stage is ClipStageName => ROWS[stage].scope === 'clip';
export const isFanOutStage = (stage: StageName): stage is FanOutStageName =>
  !isClipStage(stage) && CLIP_STAGES.some((c) => ROWS[c].after.includes(stage));
