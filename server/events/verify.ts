/**
 * `verifySessionEvent`: what a Node service that receives solo-session's events calls on each
 * one.
 *
 * @module
 */

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import {
  BACKCHANNEL_LOGOUT_EVENT,
  EVENT_TOKEN_TYPE,
  type ReceiverFormat,
  SESSION_REVOKED_EVENT,
  type SessionEvent,
} from "../../protocol/index.js";
import { ALLOWED_ALGORITHMS } from "../tokens/key-ring.js";
import { MAX_TOKEN_LENGTH } from "../tokens/tokens.js";

/**
 * Why a session event was refused: the error codes of RFC 8935 §2.4, which a receiver can
 * answer with as they are (`400 {"err": code, "description": ...}`).
 */
export type SessionEventErrorCode = "invalid_request" | "invalid_key" | "invalid_issuer" | "invalid_audience";

/** A session event that did not verify. */
export class SessionEventError extends Error {
  readonly code: SessionEventErrorCode;
  constructor(code: SessionEventErrorCode, message: string) {
    super(message);
    this.name = "SessionEventError";
    this.code = code;
  }
}

/** Options of {@link verifySessionEvent}. */
export interface VerifySessionEventOptions {
  /**
   * The sender's public keys: its JWKS document, the URL of its `/auth/jwks.json` (fetched and
   * cached by jose), or a jose key getter.
   */
  jwks: JSONWebKeySet | URL | JWTVerifyGetKey;
  /** This receiver's audience, as registered with the sender. */
  audience: string;
  /** The sender's issuer (its `issuer` option); checked when given. */
  issuer?: string;
  /** Allowed clock skew, in seconds. @default 5 */
  clockTolerance?: number;
  /** The formats accepted. @default both */
  formats?: readonly ReceiverFormat[];
  /** Epoch milliseconds now. @default Date.now() */
  now?: number;
  /** The oldest `iat` accepted, in seconds before now (a SET carries no `exp`). @default 300 */
  maxAge?: number;
}

const FORMAT_OF_TYPE = new Map<string, ReceiverFormat>(
  Object.entries(EVENT_TOKEN_TYPE).map(([format, typ]) => [typ, format as ReceiverFormat]),
);

/**
 * Verifies a session event from solo-session (or any sender of the same standards): the
 * signature against the sender's keys (EdDSA or ES256 only), `typ` (`logout+jwt` or
 * `secevent+jwt`), `iss`, `aud`, `iat` (and `exp` for a logout token), `jti`, the `events`
 * claim of its format, and for a logout token no `nonce` and a `sub` or `sid`. Throws a
 * {@link SessionEventError} otherwise. Deduplicate on the returned `jti`: delivery is at least
 * once.
 *
 * @example
 * ```ts
 * app.post("/backchannel-logout", express.urlencoded({ extended: false }), async (req, res) => {
 *   try {
 *     const event = await verifySessionEvent(req.body.logout_token, {
 *       jwks: new URL("https://auth.example.com/auth/jwks.json"),
 *       audience: "notes-service",
 *     });
 *     if (event.sessionId) cache.delete(event.sessionId);
 *     res.sendStatus(200);
 *   } catch (error) {
 *     res.status(400).json({ error: error instanceof SessionEventError ? error.code : "invalid_request" });
 *   }
 * });
 * ```
 */
export async function verifySessionEvent(token: unknown, options: VerifySessionEventOptions): Promise<SessionEvent> {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new SessionEventError("invalid_request", "no event token, or an oversized one");
  }
  const keys = keyGetter(options.jwks);
  const now = options.now ?? Date.now();
  let payload: JWTPayload;
  let typ: string | undefined;
  try {
    const verified = await jwtVerify(token, keys, {
      algorithms: [...ALLOWED_ALGORITHMS],
      audience: options.audience,
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      clockTolerance: options.clockTolerance ?? 5,
      currentDate: new Date(now),
      maxTokenAge: options.maxAge ?? 300,
      requiredClaims: ["iss", "aud", "iat", "jti", "events"],
    });
    payload = verified.payload;
    typ = verified.protectedHeader.typ;
  } catch (error) {
    throw refusal(error);
  }
  const format = FORMAT_OF_TYPE.get(typ?.toLowerCase().replace(/^application\//, "") ?? "");
  if (!format || !(options.formats ?? Object.keys(EVENT_TOKEN_TYPE)).includes(format)) {
    throw new SessionEventError("invalid_request", `unexpected typ ${String(typ)}`);
  }
  const events = payload.events;
  if (!isObject(events)) throw new SessionEventError("invalid_request", "events must be a JSON object");
  if (typeof payload.jti !== "string" || payload.jti === "" || typeof payload.iss !== "string") {
    throw new SessionEventError("invalid_request", "jti and iss must be strings");
  }
  const base = { format, jti: payload.jti, issuer: payload.iss };
  if (format === "backchannel-logout") {
    if (!isObject(events[BACKCHANNEL_LOGOUT_EVENT]))
      throw new SessionEventError("invalid_request", "not a logout token");
    if ("nonce" in payload) throw new SessionEventError("invalid_request", "a logout token carries no nonce");
    if (typeof payload.exp !== "number") throw new SessionEventError("invalid_request", "a logout token has an exp");
    const sub = optionalString(payload.sub);
    const sid = optionalString(payload.sid);
    if (sub === null && sid === null) throw new SessionEventError("invalid_request", "a logout token names sub or sid");
    return { ...base, userId: sub, sessionId: sid, at: (payload.iat as number) * 1000 };
  }
  const event = events[SESSION_REVOKED_EVENT];
  if (!isObject(event)) throw new SessionEventError("invalid_request", "not a session-revoked event");
  const subject = isObject(payload.sub_id) ? payload.sub_id : isObject(event.subject) ? event.subject : null;
  const userId = subject && isObject(subject.user) ? optionalString(subject.user.id) : optionalString(payload.sub);
  const sessionId = subject && isObject(subject.session) ? optionalString(subject.session.id) : null;
  if (userId === null && sessionId === null) throw new SessionEventError("invalid_request", "no subject");
  const at = typeof event.event_timestamp === "number" ? event.event_timestamp : (payload.iat as number);
  return { ...base, userId, sessionId, at: at * 1000 };
}

function keyGetter(jwks: VerifySessionEventOptions["jwks"]): JWTVerifyGetKey {
  if (typeof jwks === "function") return jwks;
  if (jwks instanceof URL) return createRemoteJWKSet(jwks);
  return createLocalJWKSet(jwks);
}

function refusal(error: unknown): SessionEventError {
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return new SessionEventError("invalid_audience", "not for this audience");
    if (error.claim === "iss") return new SessionEventError("invalid_issuer", "unexpected issuer");
    return new SessionEventError("invalid_request", `claim ${error.claim}: ${error.reason}`);
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JOSEAlgNotAllowed
  ) {
    return new SessionEventError("invalid_key", "not signed by a key of the sender");
  }
  if (error instanceof errors.JWTExpired) return new SessionEventError("invalid_request", "expired");
  return new SessionEventError("invalid_request", "malformed event token");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}
