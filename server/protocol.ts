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
  /**
   * For `session_active`: true when a retry with `"takeover": true` is admitted (the `confirm`
   * policy); false when the policy refuses new sign-ins while the active session lives.
   */
  takeover?: boolean;
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

/**
 * An Engine.IO transport. The server accepts only WebSocket by default, and the SDK uses
 * only WebSocket by default; `"polling"` (long-polling, never JSONP) is opt-in on both sides.
 */
export type Transport = "websocket" | "polling";

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

// ---------------------------------------------------------------------------------------
// Operations: the admin API (`/auth/admin`), its live feed (namespace `/admin`), and
// token introspection (`POST /auth/introspect`).
// ---------------------------------------------------------------------------------------

/** Kinds of audit events. The last five end a session; each session has at most one of them. */
export type AuditKind = "login" | "login_refused" | "replaced" | "logout" | "revoked" | "idle" | "expired";

/**
 * How far a revocation notice got: `pending` (no live socket yet; the device learns it on
 * its next contact), `delivered` (sent to a live socket, or shown on next contact),
 * `acknowledged` (the SDK acknowledged it). Only ever moves forward.
 */
export type DeliveryStatus = "pending" | "delivered" | "acknowledged";

/** One audit event as the admin API shows it. Times are ISO 8601 strings. */
export interface AuditEventView {
  /** Increasing; pass as `before` to page back. */
  id: string;
  kind: AuditKind;
  at: string;
  userId: string;
  /** The session concerned; null for `login_refused` (no session was opened). */
  sessionId: string | null;
  device: DeviceView | null;
  /** The server node that recorded the event. */
  node: string;
  /**
   * For `replaced`: the session and device that took over. For `revoked` and `logout`: the
   * user who ended it. For `login_refused`: the session that holds the account.
   */
  by: { sessionId: string | null; userId: string | null; device: DeviceView | null } | null;
  /** For an event that ended a session: where its `session:revoked` notice stands. */
  delivery: DeliveryStatus | null;
  /** E.g. the refusing policy of a `login_refused`. */
  detail: string | null;
}

/** `GET /auth/admin/sessions` 200 body: live sessions, newest first. */
export interface AdminSessionsResponse {
  sessions: SessionView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

/** `DELETE /auth/admin/users/:userId/sessions` 200 body. */
export interface AdminEndResponse {
  /** How many live sessions were ended. */
  ended: number;
}

/** `GET /auth/admin/audit` 200 body: events, newest first. */
export interface AdminAuditResponse {
  events: AuditEventView[];
  /** Pass as `before` for the next (older) page; null when this page was the last. */
  next: string | null;
}

/** The Socket.IO namespace of the admin feed (admins only). */
export const ADMIN_NAMESPACE = "/admin";

/** Event names of the admin feed. */
export const ADMIN_EVENTS = {
  /** Server → admin: an audit event was recorded (a login, a refusal, a session that ended). */
  audit: "admin:audit",
  /** Server → admin: the notice of an ended session moved forward. */
  delivery: "admin:delivery",
} as const;

/** The payload of `admin:delivery`. Apply it to the ending event of `sessionId`, never backwards. */
export interface DeliveryUpdate {
  sessionId: string;
  status: DeliveryStatus;
}

/** Events the server sends on the admin feed. */
export interface AdminServerToClientEvents {
  "admin:audit": (event: AuditEventView) => void;
  "admin:delivery": (update: DeliveryUpdate) => void;
}

/** The admin feed takes no events from clients. */
export type AdminClientToServerEvents = Record<never, never>;

/** `POST /auth/introspect` 200 body (RFC 7662). Anything not live is just `{ active: false }`. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      /** The user id. */
      sub: string;
      /** The session id (equal to `jti`). */
      sid: string;
      jti: string;
      /** Epoch seconds. */
      exp: number;
      iat: number;
      iss: string;
      aud: string;
      token_type: "session+jwt";
      roles: string[];
    };
