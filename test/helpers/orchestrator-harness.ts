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
import { OrchestratorService } from '../../functions/orchestrator/service.js';
import { fakeStages } from './fake-stages.js';

export const silentLogger = pino({ level: 'silent' });

export type Fault = 'ok' | 'retryable' | 'reject' | 'hang' | 'timeout';

/**
 * An in-process stand-in for the gateway: runs the fake stages through
 * runStageOnce (so manifests are real objects), counts invocations per task,
 * and injects faults per task from a script.
 */
export class FakeGateway {
  readonly invocations = new Map<string, number>();
  /** task key → faults for its successive invocations (then 'ok'). */
  readonly faults = new Map<string, Fault[]>();
  hangAfter = Number.POSITIVE_INFINITY;
  /** Stages that stand in for the usual fakes in one test. */
  readonly stages: { [S in FunctionStageName]?: StageDefinition<S> } = {};
  private calls = 0;

  constructor(private readonly store: FolderStore) {}

  invoker(): StageInvoker {
    return async (stage: FunctionStageName, input, { signal, timeoutMs }) => {
      const clip = (input as { clip?: number }).clip;
      const key = taskKey(stage, clip);
      this.invocations.set(key, (this.invocations.get(key) ?? 0) + 1);
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
      const { manifest } = await runStageOnce((this.stages[stage] ?? fakeStages[stage]) as never, input, {
        store: this.store,
        logger: silentLogger,
        signal: signal ?? new AbortController().signal,
        now: () => new Date(),
      });
      return manifest as never;
    };
  }

  /** Tasks invoked more than once. */
  repeated(): string[] {
    return [...this.invocations].filter(([, n]) => n > 1).map(([k]) => k);
  }
}

export function testConfig(overrides: Partial<OrchestratorConfig> = {}): OrchestratorConfig {
  return {
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
    namespace: 'default',
    searchMaxDocumentBytes: 1024 * 1024,
    searchCacheBytes: 16 * 1024 * 1024,
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

export function isClipseekError(err: unknown, code: string): boolean {
  return err instanceof ClipseekError && err.code === code;
}
