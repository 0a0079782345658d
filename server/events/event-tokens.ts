/**
 * The signed tokens of session events: a back-channel `logout_token` or a CAEP
 * `session-revoked` SET, with a `jti` that stays the same on every attempt.
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  BACKCHANNEL_LOGOUT_EVENT,
  EVENT_TOKEN_TYPE,
  INITIATING_ENTITY,
  LOGOUT_TOKEN_LIFETIME,
  type LogoutTokenClaims,
  REASON_ADMIN,
  type ReceiverFormat,
  SESSION_REVOKED_EVENT,
  type SessionRevokedClaims,
} from "../../protocol/index.js";
import type { OutboxEvent } from "../store/types.js";

/** Who signs, for whom, and when. */
export interface EventTokenContext {
  issuer: string;
  /** The receiver's `aud`. */
  audience: string;
  /** Epoch milliseconds. */
  now: number;
}

/**
 * The `jti` of an event for one receiver: derived from the receiver, the session and its end,
 * so every attempt (on any node) carries the same one and the receiver can deduplicate.
 */
export function eventJti(event: Pick<OutboxEvent, "receiver" | "sessionId" | "end">): string {
  return createHash("sha256")
    .update(`${event.receiver}\n${event.sessionId}\n${event.end.at}`)
    .digest("base64url")
    .slice(0, 32);
}

/**
 * The claims and `typ` of an ended session's token for a receiver of `format`.
 *
 * @example
 * ```ts
 * const { typ, claims } = eventClaims("caep", event, { issuer, audience: receiver.audience, now: Date.now() });
 * const jwt = await tokens.signClaims(claims, typ);
 * ```
 */
export function eventClaims(
  format: ReceiverFormat,
  event: Pick<OutboxEvent, "receiver" | "sessionId" | "userId" | "end">,
  context: EventTokenContext,
): { typ: string; claims: LogoutTokenClaims | SessionRevokedClaims } {
  const iat = Math.floor(context.now / 1000);
  const common = { iss: context.issuer, aud: context.audience, iat, jti: eventJti(event) };
  if (format === "backchannel-logout") {
    const claims: LogoutTokenClaims = {
      ...common,
      exp: iat + LOGOUT_TOKEN_LIFETIME,
      sub: event.userId,
      sid: event.sessionId,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    };
    return { typ: EVENT_TOKEN_TYPE[format], claims };
  }
  const reason = event.end.reason;
  const claims: SessionRevokedClaims = {
    ...common,
    sub_id: {
      format: "complex",
      user: { format: "opaque", id: event.userId },
      session: { format: "opaque", id: event.sessionId },
    },
    events: {
      [SESSION_REVOKED_EVENT]: {
        // A NumericDate may have a fraction (RFC 7519 §2): the end to the millisecond.
        event_timestamp: event.end.at / 1000,
        initiating_entity: INITIATING_ENTITY[reason],
        reason_admin: { en: REASON_ADMIN[reason] },
      },
    },
  };
  return { typ: EVENT_TOKEN_TYPE[format], claims };
}
