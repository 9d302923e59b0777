import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FunctionStageName } from '../../common/contracts/pipeline.js';
import {
  CancelledError,
  ClipseekError,
  InputError,
  RetryableError,
  TimeoutError,
} from '../../common/errors.js';
import { runStageOnce, type StageDefinition } from '../../common/stage.js';
import { FolderStore } from '../../common/storage/folder-store.js';
import { taskKey } from '../../common/task-key.js';
import type { OrchestratorConfig } from '../../functions/orchestrator/config.js';
import type { StageInvoker } from '../../functions/orchestrator/invoker.js';
import { requestIdKeyFrom } from '../../functions/orchestrator/request-identity.js';
import { OrchestratorService, type Outcome } from '../../functions/orchestrator/service.js';
import { fakeStages } from './fake-stages.js';

export const silentLogger = pino({ level: 'silent' });

export type Fault = 'ok' | 'retryable' | 'reject' | 'hang' | 'timeout';

/**
 * An in-process stand-in for the gateway: runs the fake stages through
 * runStageOnce (so manifests are real objects), counts invocations per task
 * (and per request) and the stage runs they led to, and injects faults per
 * task from a script.
 */
export class FakeGateway {
  readonly invocations = new Map<string, number>();
  /** "<request_id> <task>" → invocations. */
  readonly invocationsByRequest = new Map<string, number>();
  /** Task → times its stage's `run` did the work (a call answered from a manifest or a claim does not count). */
  readonly runs = new Map<string, number>();
  /** task key → faults for its successive invocations (then 'ok'). */
  readonly faults = new Map<string, Fault[]>();
  hangAfter = Number.POSITIVE_INFINITY;
  /** Stages that stand in for the usual fakes in one test. */
  readonly stages: { [S in FunctionStageName]?: StageDefinition<S> } = {};
  private calls = 0;

  constructor(private readonly store: FolderStore) {}

  invoker(): StageInvoker {
    return async (stage: FunctionStageName, input, { signal, timeoutMs }) => {
      const { clip, request_id } = input as { clip?: number; request_id?: string };
      const key = taskKey(stage, clip);
      const byRequest = `${request_id} ${key}`;
      this.invocations.set(key, (this.invocations.get(key) ?? 0) + 1);
      this.invocationsByRequest.set(byRequest, (this.invocationsByRequest.get(byRequest) ?? 0) + 1);
      this.calls += 1;
      const fault = this.faults.get(key)?.shift() ?? 'ok';
      if (this.calls > this.hangAfter || fault === 'hang') {
        // Never answers, like a stuck stage; only the caller giving up (abort) ends the call.
        await new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(new CancelledError(`${stage} call aborted`))),
        );
      }
      if (fault === 'timeout') {
        await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 50)));
        throw new TimeoutError('STAGE_TIMEOUT', `${stage} timed out`);
      }
      if (fault === 'retryable')
        throw new RetryableError('STAGE_UNAVAILABLE', `${stage}: HTTP 500`, { status: 500 });
      if (fault === 'reject') throw new InputError('UNREADABLE_MEDIA', `${stage}: not a video`);
      const def = (this.stages[stage] ?? fakeStages[stage]) as StageDefinition<FunctionStageName>;
      const counted: StageDefinition<FunctionStageName> = {
        name: def.name,
        run: (stageInput, deps) => {
          this.runs.set(key, (this.runs.get(key) ?? 0) + 1);
          return def.run(stageInput, deps);
        },
      };
      const { manifest } = await runStageOnce(counted, input, {
        store: this.store,
        logger: silentLogger,
        signal: signal ?? new AbortController().signal,
        now: () => new Date(),
      });
      return manifest as never;
    };
  }

  /** The tasks invoked for one request, and how often. */
  invokedFor(requestId: string): Map<string, number> {
    const prefix = `${requestId} `;
    return new Map(
      [...this.invocationsByRequest]
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, n]) => [k.slice(prefix.length), n]),
    );
  }

  /** Tasks invoked more than once. */
  repeated(): string[] {
    return [...this.invocations].filter(([, n]) => n > 1).map(([k]) => k);
  }
}

export function testConfig(overrides: Partial<OrchestratorConfig> = {}): OrchestratorConfig {
  return {
    namespace: 'default',
    gatewayUrl: 'http://127.0.0.1:9',
    maxConcurrent: 3,
    budgetMs: 60_000,
    leaseMs: 2_000,
    flushIntervalMs: 20,
    ttlMs: 3_600_000,
    sourcePolicy: { allowedHosts: ['127.0.0.1'] },
    callbackPolicy: { allowedHosts: ['127.0.0.1'] },
    maxSourceBytes: 10 * 1024 * 1024,
    sourceTimeoutMs: 5_000,
    sourceAttempts: 3,
    sourceBackoffMs: 10,
    sourceBackoffMaxMs: 100,
    callbackSigningKey: 'test-signing-key',
    requestIdKey: requestIdKeyFrom('test-signing-key'),
    callbackAttempts: 3,
    callbackBackoffMs: 10,
    callbackTimeoutMs: 2_000,
    owner: `test/${Math.random().toString(36).slice(2, 8)}`,
    searchMaxDocumentBytes: 1024 * 1024,
    ...overrides,
  };
}

export interface Harness {
  dir: string;
  store: FolderStore;
  gateway: FakeGateway;
  service(config?: Partial<OrchestratorConfig>, stopSignal?: AbortSignal): OrchestratorService;
  continued: string[];
  cleanup(): void;
}

export async function makeHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'clipseek-orch-'));
  const store = new FolderStore(join(dir, 'bucket'));
  await store.put('uploads/video.mp4', Buffer.from('not really a video, the fake stages do not care'));
  const gateway = new FakeGateway(store);
  const continued: string[] = [];
  return {
    dir,
    store,
    gateway,
    continued,
    service: (config = {}, stopSignal) =>
      new OrchestratorService({
        store,
        invoke: gateway.invoker(),
        logger: silentLogger,
        now: () => new Date(),
        random: () => 0.5,
        config: testConfig(config),
        continueLater: async (id) => {
          continued.push(id);
        },
        ...(stopSignal ? { stopSignal } : {}),
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The final result of an outcome that must be final. */
export function finalOf(outcome: Outcome) {
  if (outcome.kind !== 'final') throw new Error(`expected a final result, got ${JSON.stringify(outcome)}`);
  return outcome.result;
}

/** Polls `probe` every 10 ms until it gives a value. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function isClipseekError(err: unknown, code: string): boolean {
  return err instanceof ClipseekError && err.code === code;
}
