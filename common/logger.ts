import { type Logger, pino } from 'pino';

export type { Logger };

/** Credentials and signed URLs never reach the logs. */
const REDACT_PATHS = [
  'password',
  'secret',
  'authorization',
  'headers.authorization',
  'headers["webhook-signature"]',
  'credentials',
  '*.password',
  '*.secret',
  '*.secretAccessKey',
  '*.accessKeyId',
  '*.sessionToken',
  '*.authorization',
];

const SIGNED_QUERY =
  /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|sig|token)=)[^&\s"]+/gi;

/** Strips signatures and tokens from URLs inside a string. */
export function redactUrl(text: string): string {
  return text.replace(SIGNED_QUERY, '$1[REDACTED]').replace(/(\/\/)[^/@\s:]+:[^/@\s]+@/g, '$1[REDACTED]@');
}

/** pino's error serializer, then signed URLs stripped from message, stack and string fields (causes included). */
function redactedErr(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (typeof out !== 'object' || out === null) return out;
  for (const [k, v] of Object.entries(out)) if (typeof v === 'string') out[k] = redactUrl(v);
  return out;
}

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Defaults to stderr so a function's stdout stays free for its protocol. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Signed URLs hide in free text as often as in fields.
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactUrl(a) : a));
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
      serializers: {
        err: redactedErr,
        url: (u: unknown) => (typeof u === 'string' ? redactUrl(u) : u),
      },
    },
    options.destination ?? pino.destination(2),
  );
}

/** A child logger carrying the ids that tie log lines to a request. */
export function withContext(
  logger: Logger,
  context: { request_id?: string; stage?: string; call_id?: string; clip?: number },
): Logger {
  const bindings = Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
  return logger.child(bindings);
}
