/**
 * Dispute capabilities as tokens: signed with the server's keys, typed `dispute+jwt`, for an
 * audience of their own, so that neither a session token nor a capability passes for the other
 * (RFC 8725 §3.11, §3.9).
 *
 * @module
 */

import { type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import { SoloError } from "../errors/solo-error.js";
import { ALLOWED_ALGORITHMS, signingKey } from "./key-ring.js";
import { isCompactJws, keyFor, MAX_TOKEN_LENGTH, type TokenService } from "./tokens.js";

/** The `typ` header of a dispute capability. */
export const DISPUTE_TOKEN_TYPE = "dispute+jwt";

/** What the audience of a capability adds to the server's own: `<audience>/dispute`. */
export const DISPUTE_AUDIENCE_SUFFIX = "/dispute";

/** The claims of a verified capability. Times are epoch seconds, as in JWT. */
export interface DisputeClaims {
  /** The user id. */
  sub: string;
  /** The replaced session: the one whose device may dispute. */
  sid: string;
  /** The session that took over: the one disputed. */
  by: string;
  jti: string;
  iat: number;
  exp: number;
}

/** What a new capability says. Times are epoch milliseconds. */
export interface DisputeSubject {
  userId: string;
  /** The replaced session. */
  sessionId: string;
  /** The session that took over. */
  by: string;
  /** A fresh unique id. */
  jti: string;
  issuedAt: number;
  expiresAt: number;
}

/** Settings of {@link DisputeTokens}. */
export interface DisputeTokenOptions {
  issuer: string;
  /** The server's token audience; capabilities are for `<audience>/dispute`. */
  audience: string;
  /** Allowed clock skew, in seconds. */
  clockTolerance: number;
  clock: () => number;
}

/**
 * Signs and verifies dispute capabilities with the session tokens' key ring (so they follow its
 * rotation). Verification pins the algorithms, looks the key up by `kid` only, checks `typ`,
 * `iss`, the capability audience and the times against the (injectable) clock, and requires
 * `sub`, `sid`, `by`, `jti`, `iat` and `exp`. Every failure is `invalid_token`, an expired
 * capability included.
 *
 * @example
 * ```ts
 * const capabilities = new DisputeTokens(tokens, { issuer, audience, clockTolerance: 5, clock: Date.now });
 * const capability = await capabilities.sign({ userId, sessionId, by, jti, issuedAt, expiresAt });
 * const claims = await capabilities.verify(capability); // throws SoloError("invalid_token")
 * ```
 */
export class DisputeTokens {
  readonly #tokens: TokenService;
  readonly #options: DisputeTokenOptions;
  readonly #audience: string;

  constructor(tokens: TokenService, options: DisputeTokenOptions) {
    this.#tokens = tokens;
    this.#options = options;
    this.#audience = options.audience + DISPUTE_AUDIENCE_SUFFIX;
  }

  /** Signs a capability with the key that signs now. */
  async sign(subject: DisputeSubject): Promise<string> {
    await this.#tokens.ready();
    const key = signingKey(this.#tokens.ring, this.#options.clock());
    return new SignJWT({ sid: subject.sessionId, by: subject.by })
      .setProtectedHeader({ alg: key.alg, typ: DISPUTE_TOKEN_TYPE, kid: key.kid })
      .setSubject(subject.userId)
      .setJti(subject.jti)
      .setIssuer(this.#options.issuer)
      .setAudience(this.#audience)
      .setIssuedAt(Math.floor(subject.issuedAt / 1000))
      .setExpirationTime(Math.floor(subject.expiresAt / 1000))
      .sign(key.privateKey);
  }

  /** Verifies a capability; throws `invalid_token` for anything but a genuine, unexpired one. */
  async verify(token: string): Promise<DisputeClaims> {
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH || !isCompactJws(token)) {
      throw new SoloError("invalid_token");
    }
    await this.#tokens.ready();
    const ring = this.#tokens.ring;
    let payload: Record<string, unknown>;
    try {
      const result = await jwtVerify(token, (header: JWTHeaderParameters) => keyFor(ring, header), {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: this.#options.issuer,
        audience: this.#audience,
        typ: DISPUTE_TOKEN_TYPE,
        requiredClaims: ["exp", "iat", "sub", "jti", "sid", "by"],
        currentDate: new Date(this.#options.clock()),
        clockTolerance: this.#options.clockTolerance,
      });
      payload = result.payload as Record<string, unknown>;
    } catch {
      throw new SoloError("invalid_token");
    }
    const { sub, sid, by, jti, iat, exp } = payload;
    if (
      !nonEmpty(sub) ||
      !nonEmpty(sid) ||
      !nonEmpty(by) ||
      !nonEmpty(jti) ||
      sid === by ||
      typeof iat !== "number" ||
      typeof exp !== "number"
    ) {
      throw new SoloError("invalid_token");
    }
    return { sub, sid, by, jti, iat, exp };
  }
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "" && value.length <= 512;
}
