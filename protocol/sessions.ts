/**
 * Sessions as they cross the wire: the views, why a session ends, the audit kinds and how far
 * a revocation notice got. Every list here is the one source its copies are built from (the
 * SQL and Lua of the stores, the metrics, the admin view).
 *
 * @module
 */

/** Why a session ended, in a fixed order. */
export const REVOCATION_REASONS = ["replaced", "logout", "revoked", "expired", "idle"] as const;

/** Why a session ended. Carried by `session:revoked` and by the 401 of an ended session. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

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

/**
 * Kinds of audit events: a login, a refused login, the reasons that end a session (each
 * session has at most one of those: see {@link ENDING_KINDS}), and `disputed`: the person on a
 * replaced device said "This wasn't me" (`POST /auth/dispute`). A `disputed` event ends nothing
 * by itself: the sessions the dispute ended each have their own `revoked` event.
 */
export const AUDIT_KINDS = ["login", "login_refused", ...REVOCATION_REASONS, "disputed"] as const;

/** Kinds of audit events. */
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** The audit kinds that end a session: exactly the revocation reasons. */
export const ENDING_KINDS: readonly RevocationReason[] = REVOCATION_REASONS;

/**
 * True for the audit kinds that end a session.
 *
 * @example
 * ```ts
 * const ending = events.filter((e) => isEndingKind(e.kind));
 * ```
 */
export function isEndingKind(kind: AuditKind): kind is RevocationReason {
  return (REVOCATION_REASONS as readonly string[]).includes(kind);
}

/**
 * How far a revocation notice got, in order: `pending` (no live socket yet; the device learns
 * it on its next contact), `delivered` (sent to a live socket, or shown on next contact),
 * `acknowledged` (the SDK acknowledged it). Only ever moves forward.
 */
export const DELIVERY_STATUSES = ["pending", "delivered", "acknowledged"] as const;

/** How far a revocation notice got (see {@link DELIVERY_STATUSES}). */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The rank of each delivery status: a status only moves to a higher rank. */
export const DELIVERY_RANK = /* @__PURE__ */ Object.fromEntries(
  /* @__PURE__ */ DELIVERY_STATUSES.map((s, i) => [s, i]),
) as Readonly<Record<DeliveryStatus, number>>;

/**
 * Who an audit event names besides its subject: for `replaced`, the session and device that
 * took over; for `revoked` and `logout`, the user who ended it and the session (device) it was
 * ended from (null for the app or the system: `revokeSession()`, the sweeper); for
 * `login_refused`, the session that holds the account; for `disputed`, the replaced session
 * (device) from which the person disputed (the event's own session is the disputed one).
 */
export interface AuditActor {
  sessionId: string | null;
  userId: string | null;
  device: DeviceView | null;
}
