/**
 * Session tokens (`TokenService`): signing, and verification with the pinned algorithms,
 * required claims, explicit typing and the bounded verified-token cache. Just over 300 lines:
 * the checks every token passes are kept together, so none can be skipped on one path.
 *
 * @module
 */

import { decodeJwt, errors, type JWTHeaderParameters, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { SoloError } from "../errors/solo-error.js";
import { BoundedMap } from "../util/bounded-map.js";
import { ALLOWED_ALGORITHMS, type KeyRing, type RingKey, signingKey } from "./key-ring.js";

/** The `typ` header of a session token (RFC 8725 §3.11: explicit typing). */
export const TOKEN_TYPE = "session+jwt";

/** Tokens longer than this are refused unread. */
export const MAX_TOKEN_LENGTH = 4096;

/** The claims of a verified session token. Times are epoch seconds, as in JWT. */
export interface SessionClaims {
  sub: string;
  /** The session id; equal to `jti`. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  roles: readonly string[];
}

/** What a new token says. Times are epoch milliseconds. */
export interface TokenSubject {
  userId: string;
  sessionId: string;
  roles: readonly string[];
  issuedAt: number;
  expiresAt: number;
}

/** Options of {@link TokenService}. */
export interface TokenServiceOptions {
  issuer: string;
  audience: string;
  /** Allowed clock skew, in seconds. */
  clockTolerance: number;
  /** Epoch milliseconds now. */
  clock: () => number;
  /** Verified tokens remembered, to skip the signature check on repeat requests. 0 turns the cache off. @default 10_000 */
  cacheSize?: number;
}

/** Headers that would let a token choose its own key; refused outright (RFC 8725 §3.10). */
export const FORBIDDEN_HEADERS = ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"] as const;

/** Verified tokens remembered by default. */
const TOKEN_CACHE_SIZE = 10_000;

/** Longest `kid` looked up. */
const MAX_KID_LENGTH = 128;

/** A verified token remembered by the cache, with the key that verified it. */
interface CacheEntry {
  claims: SessionClaims;
  kid: string;
}

/**
 * Signs and verifies session tokens. Verification takes only the compact form with canonical
 * base64url segments, pins the algorithms, requires `exp`, `iat`, `sub`, `jti` and `sid`, and
 * checks `iss`, `aud` and `typ`. Keys are looked up by `kid` in the key ring only; headers that
 * point at other keys (`jku`, `jwk`, `x5u`, ...) are refused.
 *
 * Verified tokens are cached (bounded, checked against the clock on every hit): signatures
 * do not change, and the session's liveness is checked in the store on every use anyway.
 * Replacing the ring ({@link TokenService.setRing}) evicts cached tokens of removed keys.
 */
export class TokenService {
  #ring: KeyRing | null = null;
  readonly #loaded: Promise<KeyRing>;
  readonly #options: TokenServiceOptions;
  readonly #cache: BoundedMap<string, CacheEntry>;
  readonly #inflight = new Map<string, Promise<CacheEntry>>();

  /**
   * `ring` may still be loading (a promise): signing and verifying wait for it, and
   * {@link ready} says when it is there (or why it could not be loaded).
   */
  constructor(ring: KeyRing | Promise<KeyRing>, options: TokenServiceOptions) {
    this.#loaded = Promise.resolve(ring).then((loaded) => {
      this.#ring ??= loaded;
      return this.#ring;
    });
    this.#loaded.catch(() => {}); // reported through ready(); never an unhandled rejection
    this.#options = options;
    this.#cache = new BoundedMap(options.cacheSize ?? TOKEN_CACHE_SIZE);
  }

  /** Resolves with the key ring once it is loaded; rejects when it cannot be. */
  ready(): Promise<KeyRing> {
    return this.#loaded;
  }

  /** The public JWKS document (once {@link ready}). */
  get jwks(): KeyRing["jwks"] {
    return this.ring.jwks;
  }

  /** The key ring in use (once {@link ready}; before that, a TypeError). */
  get ring(): KeyRing {
    if (!this.#ring) throw new TypeError("solo-session: the signing keys are still loading (await ready())");
    return this.#ring;
  }

  /**
   * Swaps in a new key ring (after a rotation). Tokens of keys still in the ring stay valid;
   * cached tokens of removed keys are forgotten, so they are refused from now on.
   */
  setRing(ring: KeyRing): void {
    this.#ring = ring;
    for (const [token, entry] of this.#cache) {
      if (!ring.byKid.has(entry.kid)) this.#cache.delete(token);
    }
  }

  /**
   * Signs a session token.
   *
   * @example
   * ```ts
   * const token = await tokens.sign({ userId: "alice", sessionId, roles: [], issuedAt: now, expiresAt: now + 8 * 3600_000 });
   * ```
   */
  async sign(subject: TokenSubject): Promise<string> {
    const key: RingKey = signingKey(this.#ring ?? (await this.#loaded), this.#options.clock());
    return new SignJWT({ sid: subject.sessionId, roles: [...subject.roles] })
      .setProtectedHeader({ alg: key.alg, typ: TOKEN_TYPE, kid: key.kid })
      .setSubject(subject.userId)
      .setJti(subject.sessionId)
      .setIssuer(this.#options.issuer)
      .setAudience(this.#options.audience)
      .setIssuedAt(Math.floor(subject.issuedAt / 1000))
      .setExpirationTime(Math.floor(subject.expiresAt / 1000))
      .sign(key.privateKey);
  }

  /**
   * Signs other claims with the key that signs now (its `kid` is in the JWKS), under the given
   * `typ`: the session events told to other services (`logout+jwt`, `secevent+jwt`).
   *
   * @example
   * ```ts
   * const jwt = await tokens.signClaims({ iss, aud, iat, jti, events }, "secevent+jwt");
   * ```
   */
  async signClaims(claims: JWTPayload, typ: string): Promise<string> {
    const key: RingKey = signingKey(this.#ring ?? (await this.#loaded), this.#options.clock());
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ, kid: key.kid }).sign(key.privateKey);
  }

  /**
   * The claims of a token verified before and still within its times, without any work:
   * undefined when it is not in the cache or its times say no (then {@link verify} tells why).
   */
  cached(token: string): SessionClaims | undefined {
    const entry = this.#cache.get(token);
    if (!entry) return undefined;
    const now = this.#options.clock() / 1000;
    const tolerance = this.#options.clockTolerance;
    const { exp, iat } = entry.claims;
    return exp > now - tolerance && iat <= now + tolerance ? entry.claims : undefined;
  }

  /**
   * Verifies a token's signature and claims. Throws a {@link SoloError} with code
   * `invalid_token` or `token_expired`. Says nothing about the session's liveness.
   */
  async verify(token: string): Promise<SessionClaims> {
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new SoloError("invalid_token");
    }
    const cached = this.#cache.get(token);
    if (cached) {
      this.#checkTimes(cached.claims);
      return cached.claims;
    }
    // Concurrent requests with one new token share one signature check.
    let pending = this.#inflight.get(token);
    if (!pending) {
      pending = this.#verifyUncached(token).finally(() => this.#inflight.delete(token));
      this.#inflight.set(token, pending);
    }
    const entry = await pending;
    this.#checkTimes(entry.claims);
    this.#cache.set(token, entry);
    return entry.claims;
  }

  /**
   * Like {@link verify}, but a token past its `exp` whose signature and other claims are
   * valid is returned with `expired: true` instead of refused, so that the caller can look
   * its session up and tell *why* it ended (`session_expired`, `session_replaced`...) rather
   * than only `token_expired`. Every other check is the same.
   */
  async verifyAllowingExpiry(token: string): Promise<{ claims: SessionClaims; expired: boolean }> {
    try {
      return { claims: await this.verify(token), expired: false };
    } catch (error) {
      if (!(error instanceof SoloError && error.code === "token_expired")) throw error;
    }
    const cached = this.#cache.get(token);
    if (cached) return { claims: cached.claims, expired: true };
    let exp: unknown;
    try {
      exp = decodeJwt(token).exp;
    } catch {
      throw new SoloError("invalid_token");
    }
    if (typeof exp !== "number" || !Number.isFinite(exp)) throw new SoloError("invalid_token");
    // Verify everything as of just before expiry: the signature, iss, aud, typ, claims.
    const entry = await this.#verifyUncached(token, exp * 1000 - 1000);
    return { claims: entry.claims, expired: true };
  }

  async #verifyUncached(token: string, at?: number): Promise<CacheEntry> {
    if (!isCompactJws(token)) throw new SoloError("invalid_token");
    const ring = this.#ring ?? (await this.#loaded);
    const nowMs = at ?? this.#options.clock();
    let payload: Record<string, unknown>;
    let kid: string;
    try {
      const result = await jwtVerify(token, (header: JWTHeaderParameters) => keyFor(ring, header), {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        typ: TOKEN_TYPE,
        requiredClaims: ["exp", "iat", "sub", "jti", "sid"],
        currentDate: new Date(nowMs),
        clockTolerance: this.#options.clockTolerance,
      });
      payload = result.payload as Record<string, unknown>;
      kid = result.protectedHeader.kid as string;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new SoloError("token_expired");
      throw new SoloError("invalid_token");
    }
    const { sub, sid, jti, iat, exp, iss, aud, roles } = payload;
    if (
      typeof sub !== "string" ||
      sub === "" ||
      typeof sid !== "string" ||
      sid !== jti ||
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      typeof iss !== "string" ||
      typeof aud !== "string" ||
      (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === "string")))
    ) {
      throw new SoloError("invalid_token");
    }
    const claims: SessionClaims = Object.freeze({
      sub,
      sid,
      jti: sid,
      iat,
      exp,
      iss,
      aud,
      roles: Object.freeze([...((roles as string[] | undefined) ?? [])]),
    });
    return { claims, kid };
  }

  /** Expiry and not-yet-valid, against the (injectable) clock, with the tolerance. */
  #checkTimes(claims: SessionClaims): void {
    const now = this.#options.clock() / 1000;
    const tolerance = this.#options.clockTolerance;
    if (claims.exp <= now - tolerance) throw new SoloError("token_expired");
    if (claims.iat > now + tolerance) throw new SoloError("invalid_token");
  }
}

/**
 * True for the JWS compact form with canonical base64url segments: three non-empty segments
 * of `[A-Za-z0-9_-]`, each the exact encoding of its bytes (no padding, no stray bits). One
 * token has one spelling, so a token cannot be varied to slip past a cache or a deny list.
 */
export function isCompactJws(token: string): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  for (const part of parts) {
    if (!/^[A-Za-z0-9_-]+$/.test(part) || part.length % 4 === 1) return false;
    if (Buffer.from(part, "base64url").toString("base64url") !== part) return false;
  }
  return true;
}

/**
 * The ring's public key for a token header, or `invalid_token`: by `kid` only, with the header's
 * `alg` matching the key's; a header that points at another key (`jku`, `jwk`, ...) is refused.
 *
 * @example
 * ```ts
 * await jwtVerify(token, (header) => keyFor(ring, header), { algorithms: [...ALLOWED_ALGORITHMS] });
 * ```
 */
export function keyFor(ring: KeyRing, header: JWTHeaderParameters): RingKey["publicKey"] {
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(header, name)) throw new SoloError("invalid_token");
  }
  const kid = header.kid;
  if (typeof kid !== "string" || kid.length > MAX_KID_LENGTH) throw new SoloError("invalid_token");
  const key = ring.byKid.get(kid);
  if (!key || key.alg !== header.alg) throw new SoloError("invalid_token");
  return key.publicKey;
}
