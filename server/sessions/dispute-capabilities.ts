/**
 * "This wasn't me": the capability a replaced session's device gets to dispute the sign-in that
 * replaced it. When one is due, how long it lives, and the marker that spends it once.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import type { SessionRecord } from "../store/types.js";
import type { DisputeClaims, DisputeTokens } from "../tokens/dispute-tokens.js";
import { BoundedMap } from "../util/bounded-map.js";

/** Capabilities remembered per replaced session, so repeated notices and 401s sign none again. */
const CAPABILITY_CACHE = 10_000;

/** Settings of {@link DisputeCapabilities}. */
export interface DisputeCapabilityOptions {
  /** How long after a replacement its dispute window stays open (ms). */
  ttl: number;
  /** Allowed clock skew when checking token times, in seconds. */
  clockTolerance: number;
  clock: () => number;
}

/**
 * Issues and verifies dispute capabilities. One is due only for a session ended as `replaced`
 * (by a known session) and only within `ttl` of the replacement: every capability of a replaced
 * session expires at the same moment, `ended.at + ttl`, however often the device asks (a
 * notice, a refused reconnection, a 401), so the window never grows. The marker that spends a
 * capability is per replaced session ({@link onceKey}) and stands until every capability of
 * that session has expired ({@link spentUntil}): a session is disputed at most once.
 *
 * @example
 * ```ts
 * const capabilities = new DisputeCapabilities(disputeTokens, { ttl: 600_000, clockTolerance: 5, clock: Date.now });
 * const dispute = await capabilities.issue(replacedSession); // undefined when none is due
 * ```
 */
export class DisputeCapabilities {
  readonly #tokens: DisputeTokens;
  readonly #options: DisputeCapabilityOptions;
  readonly #cache = new BoundedMap<string, { capability: string; expiresAt: number }>(CAPABILITY_CACHE);

  constructor(tokens: DisputeTokens, options: DisputeCapabilityOptions) {
    this.#tokens = tokens;
    this.#options = options;
  }

  /** True while the dispute window of a replacement made at `replacedAt` (epoch ms) is open. */
  open(replacedAt: number): boolean {
    return Number.isFinite(replacedAt) && this.#closesAt(replacedAt) > this.#options.clock();
  }

  /**
   * The capability of an ended session: for a replacement within its dispute window, else
   * undefined. Signed once per session (remembered while it is valid).
   */
  async issue(session: Pick<SessionRecord, "id" | "userId" | "ended">): Promise<string | undefined> {
    const end = session.ended;
    if (end?.reason !== "replaced" || !end.by || !this.open(end.at)) return undefined;
    const now = this.#options.clock();
    const known = this.#cache.get(session.id);
    if (known && known.expiresAt > now) return known.capability;
    const expiresAt = this.#closesAt(end.at);
    const capability = await this.#tokens.sign({
      userId: session.userId,
      sessionId: session.id,
      by: end.by.sessionId,
      jti: randomBytes(16).toString("base64url"),
      issuedAt: now,
      expiresAt,
    });
    this.#cache.set(session.id, { capability, expiresAt });
    return capability;
  }

  /** Verifies a capability's signature, type, audience, issuer, claims and expiry; `invalid_token` otherwise. */
  verify(capability: string): Promise<DisputeClaims> {
    return this.#tokens.verify(capability);
  }

  /** The single-use key of a replaced session's dispute. */
  onceKey(claims: DisputeClaims): string {
    return `dispute:${claims.sid}`;
  }

  /** Until when the spent marker must stand: past the expiry of every capability of the session, with the clock skew allowed. */
  spentUntil(claims: DisputeClaims): number {
    return (claims.exp + this.#options.clockTolerance) * 1000 + 1000;
  }

  /** The end of a window, on whole seconds (a JWT's `exp`): every capability of it expires then. */
  #closesAt(replacedAt: number): number {
    return Math.floor((replacedAt + this.#options.ttl) / 1000) * 1000;
  }
}
