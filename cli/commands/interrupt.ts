import type { Io } from '../command.js';

/**
 * Ctrl-C while following a request stops the CLI, not the request: the
 * orchestrator keeps driving it. Say how to pick it up again.
 */
export function stopWatchingOnInterrupt(io: Io, requestId: string): void {
  process.once('SIGINT', () => {
    io.err.write(
      `\nstopped watching ${requestId}; it goes on in the stack.\n` +
        `  clipseek watch ${requestId}    follow it again\n` +
        `  clipseek cancel ${requestId}   stop it\n`,
    );
    process.exit(130);
  });
}
