import type { ErrorBody, ErrorCode, SessionView } from "solo-session/protocol";

/**
 * The codes a {@link SoloClientError} carries: the server's, or `network_error` when it could not be reached.
 *
 * @example
 * ```ts
 * const retryable = (code: SoloClientErrorCode) => code === "network_error" || code === "rate_limited";
 * ```
 */
export type SoloClientErrorCode = ErrorCode | "network_error";

/**
 * A sign-in refused because the account is in use elsewhere (`session_active`): what the app
 * needs to ask "You are signed in on Chrome on Windows since 10:42 — continue here?", or to
 * say that it cannot.
 *
 * @example
 * ```ts
 * const c: SessionConflict = error.conflict!;
 * const where = `${c.active.device.browser} on ${c.active.device.os}`; // "Chrome 131 on Windows 10"
 * const since = c.since.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); // "10:42"
 * if (c.takeover && confirm(`You are signed in on ${where} since ${since}. Continue here?`)) {
 *   await solo.login(credentials, { takeover: true }); // the other device is told at once
 * }
 * ```
 */
export interface SessionConflict {
  /** The session that holds the account: its device (`active.device`), its IP address, its id. */
  active: SessionView;
  /** When that session started (`active.createdAt` as a Date). */
  since: Date;
  /**
   * True when `login(credentials, { takeover: true })` ends that session and signs in here
   * (the `confirm` policy). False when the server refuses new sign-ins while it lives
   * (`oldest-wins`): offer no takeover, say where the account is in use.
   */
  takeover: boolean;
}

/**
 * The error of `login()` and `logout()`. Switch on `code`, never on the message. A
 * `session_active` refusal carries {@link SessionConflict} as `conflict`.
 *
 * @example
 * ```ts
 * try {
 *   await solo.login({ username, password });
 * } catch (error) {
 *   if (!(error instanceof SoloClientError)) throw error;
 *   const conflict = error.conflict; // set only for session_active
 *   if (conflict?.takeover && (await askContinueHere(conflict.active.device, conflict.since))) {
 *     await solo.login({ username, password }, { takeover: true });
 *   } else if (conflict) {
 *     showInUseElsewhere(conflict.active.device, conflict.since); // oldest-wins: no takeover
 *   } else if (error.code === "invalid_credentials") {
 *     showWrongPassword();
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

  /**
   * For `session_active`: the session in the way, since when, and whether a takeover is
   * possible. Null for every other code. A server that does not say counts as allowing it.
   */
  get conflict(): SessionConflict | null {
    const active = this.code === "session_active" ? this.body?.active : undefined;
    return active ? { active, since: new Date(active.createdAt), takeover: this.body?.takeover !== false } : null;
  }
}
