/**
 * The cron-connector's job, locally: functions annotated `topic: cron-function`
 * with a `schedule` are invoked through the gateway's own HTTP API at the start
 * of each minute their schedule matches.
 */
import type { Logger } from '../common/logger.js';
import { type CronSchedule, nextMinute, parseCron } from './cron.js';
import { type BasicAuthCredentials, basicAuthHeader } from './http.js';
import type { FunctionSpec } from './stack.js';

export interface ScheduledFunction {
  name: string;
  schedule: CronSchedule;
}

export class CronScheduler {
  readonly entries: ScheduledFunction[];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    functions: Array<{ name: string; expression: string }>,
    /** Invokes one function (an HTTP call to /function/<name>); resolves with its status. */
    private readonly invoke: (name: string) => Promise<number>,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.entries = functions.map((f) => ({ name: f.name, schedule: parseCron(f.expression) }));
  }

  start(): void {
    if (this.entries.length === 0 || this.running) return;
    this.running = true;
    this.armForNextMinute();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Invokes every function due in the minute of `at`; resolves with their names. */
  async runDue(at: Date): Promise<string[]> {
    const due = this.entries.filter((e) => e.schedule.matches(at)).map((e) => e.name);
    await Promise.all(
      due.map(async (name) => {
        try {
          const status = await this.invoke(name);
          this.logger.info({ function: name, status }, 'cron invocation');
        } catch (err) {
          this.logger.error({ err, function: name }, 'cron invocation failed');
        }
      }),
    );
    return due;
  }

  private armForNextMinute(): void {
    const now = this.now();
    const at = nextMinute(now);
    this.timer = setTimeout(() => {
      if (!this.running) return;
      void this.runDue(at);
      this.armForNextMinute();
    }, at.getTime() - now.getTime());
    this.timer.unref();
  }
}

/** A scheduler for the specs that have a schedule, invoking each with a POST to the gateway at `gatewayUrl`. */
export function cronConnector(
  specs: FunctionSpec[],
  gatewayUrl: string,
  auth: BasicAuthCredentials | undefined,
  logger: Logger,
): CronScheduler {
  return new CronScheduler(
    specs.flatMap((s) => (s.cron ? [{ name: s.name, expression: s.cron.expression }] : [])),
    async (name) => {
      const headers: Record<string, string> = { 'X-Connector': 'cron-connector' };
      if (auth) headers.Authorization = basicAuthHeader(auth);
      const res = await fetch(`${gatewayUrl}/function/${name}`, { method: 'POST', headers });
      await res.arrayBuffer();
      return res.status;
    },
    logger,
  );
}
