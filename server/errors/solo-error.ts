import {
  ERROR_STATUS,
  type ErrorBody,
  type ErrorCode,
  type ReplacedBy,
  type RevocationReason,
  type SessionView,
} from "../../protocol/index.js";

/** Details an error may carry besides its code (see {@link ErrorBody}). */
export interface SoloErrorDetails {
  reason?: RevocationReason;
  by?: ReplacedBy;
  active?: SessionView;
  takeover?: boolean;
  retryAfter?: number;
  /** For `session_replaced`: the dispute capability (see `ErrorBody.dispute`). */
  dispute?: string;
}

const MESSAGES: Record<ErrorCode, string> = {
  invalid_request: "The request is malformed.",
  invalid_credentials: "The username or password is wrong.",
  missing_token: "Sign in first: no session token was sent.",
  invalid_token: "The session token is not valid.",
  token_expired: "The session token has expired. Sign in again.",
  session_replaced: "This session was replaced by a newer sign-in of the same account.",
  session_revoked: "This session was ended.",
  session_expired: "This session reached its maximum lifetime. Sign in again.",
  session_idle: "This session ended after a period of inactivity. Sign in again.",
  session_active: "This account is already signed in on another device.",
  origin_not_allowed:
    "Requests from this origin are not allowed: it is neither the server's own origin (publicOrigin, or the Host it was reached at) nor in allowedOrigins.",
  rate_limited: "Too many attempts. Wait a moment and try again.",
  payload_too_large: "The request body is too large.",
  forbidden: "You are not allowed to do this.",
  dispute_used: "This sign-in has already been reported.",
  not_found: "Not found.",
  too_many_connections: "Too many connections. Wait a moment and try again.",
  store_unavailable: "The session store is unavailable. Try again shortly.",
  internal_error: "Something went wrong on the server.",
};

/**
 * The one error type of solo-session. `code` is stable; switch on it.
 *
 * @example
 * ```ts
 * try { await service.check(token) } catch (e) {
 *   if (e instanceof SoloError && e.code === "session_replaced") console.log(e.details.by)
 * }
 * ```
 */
export class SoloError extends Error {
  override readonly name = "SoloError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: SoloErrorDetails;

  constructor(code: ErrorCode, details: SoloErrorDetails = {}, message: string = MESSAGES[code]) {
    super(message);
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }

  /** The JSON body for HTTP answers. */
  toBody(): ErrorBody {
    return { error: this.code, message: this.message, ...this.details };
  }
}
