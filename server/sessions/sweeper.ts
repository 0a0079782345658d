import type { Logger } from "pino";

/**
 * Runs the session service's sweep (ends idle and expired sessions, forgets what retention
 * allows) every `interval` ms until stopped. A failed sweep is logged and the next one runs on
 * time; the timer never keeps the process alive.
 *
 * @example
 * ```ts
 * const sweeper = startSweeper(() => service.sweep(), 15_000, logger);
 * // ...
 * sweeper.stop();
 * ```
 */
export function startSweeper(sweep: () => Promise<unknown>, interval: number, logger: Pick<Logger, "warn">) {
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn({ err: error }, "sweep failed"));
  }, interval);
  timer.unref();
  return {
    /** Stops the timer (a sweep in progress finishes on its own). */
    stop(): void {
      clearInterval(timer);
    },
  };
}
