import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { createLimiter, type LimiterBackend, refuseIfLimited } from "./backend.js";
import { userIdKey } from "./keys.js";
import type { ResolvedRateLimits } from "./limits.js";

/**
 * Counts disputes ("This wasn't me") per user, once the capability is verified (its `sub` is
 * then the user's); over the limit, 429 `rate_limited` (`retryAfter` in seconds) before any
 * session is looked at. On the login limits' backend: shared by every node on Redis.
 *
 * @example
 * ```ts
 * const limiter = new DisputeLimiter(limits, backend);
 * await limiter.count(claims.sub); // throws SoloError("rate_limited")
 * ```
 */
export class DisputeLimiter {
  readonly #perUser: RateLimiterAbstract | null;

  constructor(limits: ResolvedRateLimits, backend: LimiterBackend) {
    this.#perUser = limits.disputePerUser ? createLimiter(backend, "dispute-user", limits.disputePerUser) : null;
  }

  /** Counts a dispute of `userId`; throws `rate_limited` over the limit. */
  async count(userId: string): Promise<void> {
    if (!this.#perUser) return;
    refuseIfLimited(await Promise.allSettled([this.#perUser.consume(userIdKey(userId))]));
  }
}
