/**
 * The wire contract of solo-session, shared by the server and the browser SDK.
 *
 * Everything that crosses the network is defined here once: the error codes and their
 * HTTP statuses, the JSON bodies of the `/auth` routes, the Socket.IO namespace, its
 * event names and payloads. This module imports nothing, so the SDK can bundle it
 * without pulling any server code.
 *
 * @module
 */

/**
 * Every error code the server can answer with, over HTTP (`{"error": code}`) and on a
 * refused Socket.IO handshake (`err.message === code`, `err.data.code === code`).
 */
export const ERROR_CODES = [
  "invalid_request",
  "invalid_credentials",
  "missing_token",
  "invalid_token",
  "token_expired",
  "session_replaced",
  "session_revoked",
  "session_expired",
  "session_idle",
  "session_active",
  "origin_not_allowed",
  "rate_limited",
  "payload_too_large",
  "forbidden",
  "not_found",
  "too_many_connections",
  "store_unavailable",
  "internal_error",
] as const;

/** A stable, machine-readable error code. Switch on it; never on the message text. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The HTTP status that goes with each error code. */
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
  not_found: 404,
  too_many_connections: 429,
  store_unavailable: 503,
  internal_error: 500,
} as const satisfies Record<ErrorCode, number>;

/** Why a session ended. Carried by `session:revoked` and by the 401 of an ended session. */
export type RevocationReason = "replaced" | "logout" | "revoked" | "expired" | "idle";

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

/** True for the codes that mean the session was ended (as opposed to a bad or missing token). */
export function isSessionEndedCode(code: unknown): code is SessionEndedCode {
  return (
    code === "session_replaced" || code === "session_revoked" || code === "session_expired" || code === "session_idle"
  );
}

/** True when `value` is one of {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** The device a session was opened from. Fields are null when unknown. */
export interface DeviceView {
  /** A name the client chose, e.g. "Work laptop". */
  name: string | null;
  /** Browser name and major version, e.g. "Firefox 132", from the User-Agent. */
  browser: string | null;
  /** Operating system, e.g. "Windows 10", from the User-Agent. */
  os: string | null;
  /** The client's IP address as the server saw it. */
  ip: string | null;
}

/** A session as the API shows it. Times are ISO 8601 strings. */
export interface SessionView {
  id: string;
  userId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  device: DeviceView;
}

/** Who took over a replaced session, and when. */
export interface ReplacedBy {
  device: DeviceView;
  /** When the new login happened (ISO 8601). */
  at: string;
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
  /** For `session_active`: the session that holds the account. */
  active?: SessionView;
  /** For `rate_limited`: seconds until a retry can succeed (also in `Retry-After`). */
  retryAfter?: number;
}

/** Optional fields of the login body that the router reads itself; the rest is the app's credentials. */
export interface LoginOptions {
  device?: { name?: string };
  /** Under the `confirm` policy: take over the active session. */
  takeover?: boolean;
}

/** `POST /auth/login` 200 body. */
export interface LoginResponse {
  token: string;
  session: SessionView;
  /** The sessions this login ended (they were told with `session:revoked`). */
  replaced: SessionView[];
}

/** `GET /auth/session` 200 body. */
export interface SessionResponse {
  session: SessionView;
}

/** The Socket.IO namespace of the session channel. */
export const SESSION_NAMESPACE = "/session";

/** Event names, defined once. */
export const EVENTS = {
  /** Server → client: this session has ended. Acknowledge it; the server then disconnects. */
  revoked: "session:revoked",
  /** Client → server: the person interacted with the page (rate-limited by the client and the server). */
  activity: "session:activity",
} as const;

/** The payload of `session:revoked`. */
export interface RevocationNotice {
  reason: RevocationReason;
  sessionId: string;
  /** When the session ended (ISO 8601). */
  at: string;
  /** For `replaced`: the device that took over. */
  by?: ReplacedBy;
}

/** Events the server sends to the SDK. */
export interface ServerToClientEvents {
  "session:revoked": (notice: RevocationNotice, ack: () => void) => void;
}

/** Events the SDK sends to the server. */
export interface ClientToServerEvents {
  "session:activity": () => void;
}

/** Events between server nodes (over the cluster adapter). */
export interface InterServerEvents {
  "solo:revoke": (notice: RevocationNotice) => void;
}

/** What the server keeps on each authenticated socket (`socket.data`). */
export interface SocketData {
  userId: string;
  sessionId: string;
  roles: readonly string[];
  /** Set once `session:revoked` was sent to this socket. */
  revoked: boolean;
  /** Epoch ms of the last activity signal that was passed on to the store. */
  lastActivityAt: number;
}

/** `err.data` of a refused handshake (`connect_error`). `err.message` is `code`. */
export interface ConnectErrorData {
  code: ErrorCode;
  message: string;
  reason?: RevocationReason;
  by?: ReplacedBy;
}
