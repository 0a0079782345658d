/**
 * Error codes: one closed set, the same over HTTP (`{"error": code}`) and on a refused
 * Socket.IO handshake (`err.message === code`, `err.data.code === code`).
 *
 * @module
 */

import type { ReplacedBy, RevocationReason, SessionView } from "./sessions.js";

/**
 * Every error code with the HTTP status that goes with it. The source of the code list:
 * {@link ERROR_CODES} and {@link ErrorCode} are derived from it.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_credentials: 401,
  missing_token: 401,
  invalid_token: 401,
  token_expired: 401,
  session_replaced: 401,
  session_revoked: 401,
  session_expired: 401,
  session_idle: 401,
  session_active: 409,
  origin_not_allowed: 403,
  rate_limited: 429,
  payload_too_large: 413,
  forbidden: 403,
  dispute_used: 409,
  not_found: 404,
  too_many_connections: 429,
  store_unavailable: 503,
  internal_error: 500,
} as const;

/** A stable, machine-readable error code. Switch on it; never on the message text. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every error code the server can answer with. */
export const ERROR_CODES = /* @__PURE__ */ Object.keys(ERROR_STATUS) as readonly ErrorCode[];

/** The error codes that mean "this session existed and has ended". */
export type SessionEndedCode = "session_replaced" | "session_revoked" | "session_expired" | "session_idle";

/** Maps each end reason to the error code a later request with that session's token gets. */
export const ENDED_CODE = {
  replaced: "session_replaced",
  logout: "session_revoked",
  revoked: "session_revoked",
  expired: "session_expired",
  idle: "session_idle",
} as const satisfies Record<RevocationReason, SessionEndedCode>;

/**
 * The inverse of {@link ENDED_CODE}: the reason a session-ended code stands for when the
 * answer names none (`session_revoked` covers `logout` and `revoked`: it reads as `revoked`).
 */
export const ENDED_REASON = {
  session_replaced: "replaced",
  session_revoked: "revoked",
  session_expired: "expired",
  session_idle: "idle",
} as const satisfies Record<SessionEndedCode, RevocationReason>;

/**
 * True for the codes that mean the session was ended (as opposed to a bad or missing token).
 *
 * @example
 * ```ts
 * if (isSessionEndedCode(body.error)) showSignedOut(ENDED_REASON[body.error]);
 * ```
 */
export function isSessionEndedCode(code: unknown): code is SessionEndedCode {
  return typeof code === "string" && Object.hasOwn(ENDED_REASON, code);
}

/**
 * True when `value` is one of {@link ERROR_CODES}.
 *
 * @example
 * ```ts
 * const code = isErrorCode(body?.error) ? body.error : "internal_error";
 * ```
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: ErrorCode;
  /** A sentence for people; may change between versions. */
  message: string;
  /** For an ended session: why it ended. */
  reason?: RevocationReason;
  /** For `session_replaced`: the device that took over and when. */
  by?: ReplacedBy;
  /**
   * For `session_replaced`, while the dispute window is open: the single-use capability for
   * `POST /auth/dispute` ("This wasn't me").
   */
  dispute?: string;
  /** For `session_active`: the session that holds the account. */
  active?: SessionView;
  /**
   * For `session_active`: true when a retry with `"takeover": true` is admitted (the `confirm`
   * policy); false when the policy refuses new sign-ins while the active session lives.
   */
  takeover?: boolean;
  /** For `rate_limited`: seconds until a retry can succeed (also in `Retry-After`). */
  retryAfter?: number;
}
