import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { createLimiter, type LimiterBackend, refuseIfLimited } from "./backend.js";
import { userIdKey } from "./keys.js";
import type { ResolvedRateLimits } from "./limits.js";

/**
 * Counts disputes ("This wasn't me") per user, once the capability is verified (its `sub` is
 * then the user's); over the limit, 429 `rate_limited` (`retryAfter` in seconds) before any
 * session is looked at. Counted before the dispute is settled (parallel attempts cannot slip
 * past the limit) and refunded when it is refused (a spent or mismatched capability ends
 * nothing), so a replayed capability cannot use up its user's limit. On the login limits'
 * backend: shared by every node on Redis.
 *
 * @example
 * ```ts
 * const limiter = new DisputeLimiter(limits, backend);
 * const counted = await limiter.count(claims.sub); // throws SoloError("rate_limited")
 * if (refused) await counted.refund();
 * ```
 */
export class DisputeLimiter {
  readonly #perUser: RateLimiterAbstract | null;

  constructor(limits: ResolvedRateLimits, backend: LimiterBackend) {
    this.#perUser = limits.disputePerUser ? createLimiter(backend, "dispute-user", limits.disputePerUser) : null;
  }

  /** Counts a dispute of `userId`; throws `rate_limited` over the limit. `refund()` takes the count back. */
  async count(userId: string): Promise<{ refund(): Promise<void> }> {
    const limiter = this.#perUser;
    if (!limiter) return { refund: async () => {} };
    const key = userIdKey(userId);
    refuseIfLimited(await Promise.allSettled([limiter.consume(key)]));
    return {
      refund: async () => {
        await limiter.reward(key, 1).catch(() => {});
      },
    };
  }
}
