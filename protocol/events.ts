/**
 * Session events told to other services (the server's `receivers`): an OpenID Connect
 * Back-Channel Logout 1.0 `logout_token`, or a CAEP `session-revoked` Security Event Token
 * (RFC 8417) pushed per RFC 8935. The shapes, defined once for the server that signs them and
 * for `verifySessionEvent`.
 *
 * @module
 */

import type { RevocationReason } from "./sessions.js";

/** The formats a receiver can ask for. */
export const RECEIVER_FORMATS = ["backchannel-logout", "caep"] as const;
/** A receiver's format: an OpenID back-channel `logout_token`, or a CAEP `session-revoked` SET. */
export type ReceiverFormat = (typeof RECEIVER_FORMATS)[number];

/** The `typ` header of each format (OpenID Back-Channel Logout 1.0 §2.4; RFC 8417 §2.3). */
export const EVENT_TOKEN_TYPE = { "backchannel-logout": "logout+jwt", caep: "secevent+jwt" } as const satisfies Record<
  ReceiverFormat,
  string
>;

/** The member of `events` that makes a JWT a back-channel logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";
/** The CAEP event type of an ended session. */
export const SESSION_REVOKED_EVENT = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

/** How long a logout token is valid after it is signed, in seconds (the spec recommends at most two minutes). */
export const LOGOUT_TOKEN_LIFETIME = 120;

/** Who ended the session, as CAEP's `initiating_entity` says it. */
export const INITIATING_ENTITY = {
  replaced: "policy",
  logout: "user",
  revoked: "admin",
  expired: "system",
  idle: "system",
} as const satisfies Record<RevocationReason, "admin" | "user" | "policy" | "system">;

/** CAEP's `reason_admin` for each end (English). */
export const REASON_ADMIN = {
  replaced: "Signed in on another device (one live session per user)",
  logout: "Signed out",
  revoked: "Ended by an administrator",
  expired: "Reached its maximum lifetime",
  idle: "Idle for too long",
} as const satisfies Record<RevocationReason, string>;

/** The claims of a back-channel `logout_token` solo-session sends. Times in epoch seconds. */
export interface LogoutTokenClaims {
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  /** The same for every attempt at one event: receivers deduplicate on it. */
  jti: string;
  sub: string;
  sid: string;
  events: { [BACKCHANNEL_LOGOUT_EVENT]: Record<string, never> };
}

/** An opaque subject identifier (RFC 9493). */
export interface OpaqueId {
  format: "opaque";
  id: string;
}

/** The claims of a CAEP `session-revoked` SET solo-session sends. Times in epoch seconds. */
export interface SessionRevokedClaims {
  iss: string;
  aud: string;
  iat: number;
  /** The same for every attempt at one event: receivers deduplicate on it. */
  jti: string;
  /** The subject (SSF 1.0): the user and the session. */
  sub_id: { format: "complex"; user: OpaqueId; session: OpaqueId };
  events: {
    [SESSION_REVOKED_EVENT]: {
      event_timestamp: number;
      initiating_entity: (typeof INITIATING_ENTITY)[RevocationReason];
      reason_admin: { en: string };
    };
  };
}

/** What `verifySessionEvent` reads from either format. */
export interface SessionEvent {
  format: ReceiverFormat;
  /** Deduplicate on it: a retried delivery carries the same `jti`. */
  jti: string;
  issuer: string;
  /** The user (`sub`), when the token names one. */
  userId: string | null;
  /** The session (`sid`), when the token names one. */
  sessionId: string | null;
  /** When the session ended (CAEP), else when the token was signed; epoch milliseconds. */
  at: number;
}
