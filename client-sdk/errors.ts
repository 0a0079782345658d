import type { ErrorBody, ErrorCode, SessionView } from "../server/protocol.js";

/** The codes a {@link SoloClientError} carries: the server's, or `network_error` when it could not be reached. */
export type SoloClientErrorCode = ErrorCode | "network_error";

/**
 * The error of `login()` and `logout()`. Switch on `code`, never on the message.
 *
 * @example
 * ```ts
 * try {
 *   await solo.login({ username, password });
 * } catch (error) {
 *   if (error instanceof SoloClientError && error.code === "session_active") {
 *     // error.active: the session that holds the account (confirm policy)
 *     if (confirm("Sign out the other device?")) await solo.login({ username, password }, { takeover: true });
 *   }
 * }
 * ```
 */
export class SoloClientError extends Error {
  override readonly name = "SoloClientError";
  /** The stable code. */
  readonly code: SoloClientErrorCode;
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The server's error body, when there was one. */
  readonly body: ErrorBody | null;

  constructor(code: SoloClientErrorCode, status: number, body: ErrorBody | null) {
    super(body?.message ?? (code === "network_error" ? "The server could not be reached." : code));
    this.code = code;
    this.status = status;
    this.body = body;
  }

  /** For `session_active`: the session that holds the account. */
  get active(): SessionView | undefined {
    return this.body?.active;
  }
}
