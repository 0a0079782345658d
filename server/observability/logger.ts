import { createHash } from "node:crypto";
import { type DestinationStream, type Logger, pino } from "pino";

/**
 * Log hygiene: what may appear in logs and in which form.
 *
 * - Session tokens, passwords and cookies never appear: the default logger redacts the usual
 *   places ({@link REDACT_PATHS}), and solo-session's own log lines never carry them.
 * - Session ids appear only as {@link logId} (a short SHA-256 digest): enough to correlate the
 *   lines of one session, useless to anyone who reads the log and wants to use the session.
 * - Login names typed in a failed login may be a password typed in the wrong field; they are
 *   logged as {@link logId} too.
 *
 * @module
 */

/** How many hex digits of the SHA-256 digest {@link logId} keeps (48 bits). */
export const LOG_ID_LENGTH = 12;

/**
 * The form of a session id (or any other secret-ish identifier) that may go into a log: the
 * first 12 hex digits of its SHA-256. The same id always gives the same value, so log lines
 * about one session can be put together; the id cannot be recovered from it.
 *
 * @example
 * ```ts
 * logger.info({ session: logId(session.id), user: session.userId }, "session replaced");
 * // {"session":"3f9a0c1be27d","user":"alice","msg":"session replaced"}
 * ```
 */
export function logId(id: string): string {
  return createHash("sha256").update(id, "utf8").digest("hex").slice(0, LOG_ID_LENGTH);
}

/**
 * Paths that pino blanks out (`[Redacted]`) in every line of the default logger: credentials
 * in request headers and in objects that carry a token or a password. Pass them to your own
 * logger with `pino({ redact: REDACT_PATHS })` when you give solo-session one.
 *
 * @example
 * ```ts
 * const solo = await createSoloServer({ authenticate, logger: pino({ redact: [...REDACT_PATHS] }) });
 * ```
 */
export const REDACT_PATHS: readonly string[] = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "headers.authorization",
  "headers.cookie",
  "token",
  "*.token",
  "password",
  "*.password",
  "credentials",
  "*.credentials",
  "capability",
  "*.capability",
  "dispute",
  "*.dispute",
];

/**
 * The logger solo-session uses when none is given: pino at `level`, with {@link REDACT_PATHS},
 * to stdout or to `destination`.
 *
 * @example
 * ```ts
 * const logger = createLogger(process.env.LOG_LEVEL ?? "info");
 * ```
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: [...REDACT_PATHS], censor: "[Redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The logger of a server created without one: {@link createLogger} at `LOG_LEVEL` (or "info").
 *
 * @example
 * ```ts
 * const logger = options.logger ?? defaultLogger();
 * ```
 */
export function defaultLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  return createLogger(env.LOG_LEVEL || "info");
}
