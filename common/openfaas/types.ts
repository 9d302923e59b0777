import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../logger.js';
import type { ObjectStore } from '../storage/types.js';

/** Built once per process and handed to the function's init, which builds its handler from it. */
export interface FunctionRuntime {
  store: ObjectStore;
  logger: Logger;
  now: () => Date;
  env: NodeJS.ProcessEnv;
  /** Aborted when the process is told to stop (SIGTERM/SIGINT), as it starts draining. */
  stopping: AbortSignal;
}

export interface FunctionRequest {
  method: string;
  /** The path below the function's route: `/function/<name>/a/b` arrives as `/a/b`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined when the body is empty. */
  body: unknown;
  rawBody: Buffer;
  callId: string;
  /** Aborted when the caller disconnects or the function's exec timeout passes. */
  signal: AbortSignal;
  /** The runtime logger with this call's `call_id`. */
  logger: Logger;
}

export interface FunctionResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless a string or Buffer (sent as is). */
  body?: unknown;
}

export type FunctionHandler = (req: FunctionRequest) => Promise<FunctionResponse>;

/**
 * Runs once per process, before the server listens: builds what the function
 * needs (clients, models) from the runtime and returns the handler that uses it.
 */
export type FunctionInit = (rt: FunctionRuntime) => FunctionHandler | Promise<FunctionHandler>;
