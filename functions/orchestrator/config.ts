import { hostname } from 'node:os';
import { z } from 'zod';
import { parseConfig, readSecret } from '../../common/config.js';
import { DEFAULT_NAMESPACE, Namespace } from '../../common/contracts/common.js';
import { gatewayAuthorization } from '../../common/gateway-client.js';
import { parseAllowedHosts } from '../../common/net-policy.js';
import { parseDuration } from '../../common/openfaas/duration.js';
import { webhookKey } from './callbacks.js';
import { requestIdKeyFrom } from './request-identity.js';

const Env = z.object({
  GATEWAY_URL: z.url().default('http://127.0.0.1:8080'),
  MAX_CONCURRENT_INVOCATIONS: z.coerce.number().int().min(1).max(256).default(3),
  /** of-watchdog's exec_timeout for this function; the time budget stays below it. */
  exec_timeout: z.string().default('900s'),
  ORCHESTRATOR_BUDGET_S: z.coerce.number().positive().optional(),
  LEASE_S: z.coerce.number().min(2).max(3600).default(30),
  STATE_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  REQUEST_TTL_S: z.coerce.number().int().min(60).default(86_400),
  SOURCE_ALLOWED_HOSTS: z.string().optional(),
  MAX_SOURCE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  SOURCE_TIMEOUT_S: z.coerce.number().positive().default(600),
  SOURCE_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** The first wait before fetching an unreachable source again (one sweep), doubling up to the max. */
  SOURCE_BACKOFF_MS: z.coerce.number().int().min(1).default(60_000),
  SOURCE_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(900_000),
  /** Results and the video index are shared only inside one namespace (one per deployment by default). */
  CLIPSEEK_NAMESPACE: Namespace.default(DEFAULT_NAMESPACE),
  /** A video index document larger than this is skipped by search (with a warning), not read. */
  SEARCH_MAX_DOCUMENT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 ** 2),
});

/** How callbacks are sent: by the orchestrator, and by the sweeper after a crash (callback-outbox.ts). */
const CallbackEnv = z.object({
  CALLBACK_ALLOWED_HOSTS: z.string().optional(),
  CALLBACK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  CALLBACK_BACKOFF_MS: z.coerce.number().int().min(1).default(500),
  CALLBACK_TIMEOUT_S: z.coerce.number().positive().max(300).default(10),
});

export interface CallbackSettings {
  /** Without it no callback is accepted (orchestrator) or sent (sweeper). */
  signingKey?: string;
  policy: { allowedHosts: string[] };
  attempts: number;
  backoffMs: number;
  /** One attempt's time limit. */
  timeoutMs: number;
}

export function loadCallbackSettings(env: NodeJS.ProcessEnv): CallbackSettings {
  const e = parseConfig(CallbackEnv, env);
  const signingKey = readSecret('callback-signing-key', env);
  if (signingKey) webhookKey(signingKey); // a malformed whsec_ secret stops the start, not each callback
  return {
    ...(signingKey ? { signingKey } : {}),
    policy: { allowedHosts: parseAllowedHosts(e.CALLBACK_ALLOWED_HOSTS) },
    attempts: e.CALLBACK_ATTEMPTS,
    backoffMs: e.CALLBACK_BACKOFF_MS,
    timeoutMs: e.CALLBACK_TIMEOUT_S * 1000,
  };
}

export interface OrchestratorConfig {
  /** CLIPSEEK_NAMESPACE: where new requests keep and look for shared results (results/<namespace>/…) and index their analyses. */
  namespace: string;
  gatewayUrl: string;
  gatewayAuth?: string;
  maxConcurrent: number;
  budgetMs: number;
  leaseMs: number;
  flushIntervalMs: number;
  ttlMs: number;
  sourcePolicy: { allowedHosts: string[] };
  callbackPolicy: { allowedHosts: string[] };
  maxSourceBytes: number;
  sourceTimeoutMs: number;
  /** Attempts at copying the source (a retryable failure waits `sourceBackoffMs`, doubling, between them). */
  sourceAttempts: number;
  sourceBackoffMs: number;
  sourceBackoffMaxMs: number;
  callbackSigningKey?: string;
  /** HMAC key of the ids derived from Idempotency-Key and X-Call-Id (see request-identity.ts). */
  requestIdKey?: string;
  callbackAttempts: number;
  callbackBackoffMs: number;
  callbackTimeoutMs: number;
  owner: string;
  /** What search reads of one video index document at most. */
  searchMaxDocumentBytes: number;
}

export function loadOrchestratorConfig(env: NodeJS.ProcessEnv): OrchestratorConfig {
  const e = parseConfig(Env, env);
  const execMs = parseDuration(e.exec_timeout) ?? 900_000;
  const gatewayAuth = gatewayAuthorization(env);
  const callbacks = loadCallbackSettings(env);
  return {
    namespace: e.CLIPSEEK_NAMESPACE,
    gatewayUrl: e.GATEWAY_URL,
    ...(gatewayAuth ? { gatewayAuth } : {}),
    maxConcurrent: e.MAX_CONCURRENT_INVOCATIONS,
    // Leave room to save state and hand over before the watchdog kills the call.
    budgetMs: e.ORCHESTRATOR_BUDGET_S ? e.ORCHESTRATOR_BUDGET_S * 1000 : Math.max(1000, execMs * 0.8 - 5000),
    leaseMs: e.LEASE_S * 1000,
    flushIntervalMs: e.STATE_FLUSH_MS,
    ttlMs: e.REQUEST_TTL_S * 1000,
    sourcePolicy: { allowedHosts: parseAllowedHosts(e.SOURCE_ALLOWED_HOSTS) },
    callbackPolicy: callbacks.policy,
    maxSourceBytes: e.MAX_SOURCE_BYTES,
    sourceTimeoutMs: e.SOURCE_TIMEOUT_S * 1000,
    sourceAttempts: e.SOURCE_ATTEMPTS,
    sourceBackoffMs: e.SOURCE_BACKOFF_MS,
    sourceBackoffMaxMs: Math.max(e.SOURCE_BACKOFF_MS, e.SOURCE_BACKOFF_MAX_MS),
    ...(callbacks.signingKey
      ? { callbackSigningKey: callbacks.signingKey, requestIdKey: requestIdKeyFrom(callbacks.signingKey) }
      : {}),
    callbackAttempts: callbacks.attempts,
    callbackBackoffMs: callbacks.backoffMs,
    callbackTimeoutMs: callbacks.timeoutMs,
    searchMaxDocumentBytes: e.SEARCH_MAX_DOCUMENT_BYTES,
    owner: `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`,
  };
}
