import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { SoloError } from "../errors/solo-error.js";
import type { Credentials } from "../sessions/user.js";
import { createLimiter, type LimiterBackend, refuseIfLimited } from "./backend.js";
import { addressKey, loginNameKey, userIdKey } from "./keys.js";
import type { LoginKey, ResolvedRateLimits } from "./limits.js";

/** A login in progress: report a success so it does not count as a failure. */
export interface LoginAttempt {
  /**
   * The credentials of `userId` were right: the attempt is not counted as a failure and the
   * name's failures are forgotten; then the success is counted per user and per address.
   * Throws `rate_limited` over a success limit (the caller then opens no session).
   */
  succeeded(userId: string): Promise<void>;
}

/**
 * Counts logins. Failed logins per client address and per login name: every attempt is
 * counted *before* the credentials are checked (so parallel guesses cannot slip past the
 * limit) and refunded when it succeeds. Over a limit, the login is refused with 429
 * `rate_limited` (`retryAfter` in seconds) without checking the credentials, so it cannot
 * touch the user's live session either. Successful logins per user id and per address: counted
 * once the credentials are right, before the session is opened; over a limit, 429 as well and
 * no session is opened or ended.
 *
 * @example
 * ```ts
 * const name = limiter.loginName(credentials);                  // throws invalid_request when malformed
 * const attempt = await limiter.begin(clientAddress(req, false), name); // throws rate_limited
 * const user = await check(credentials);
 * if (user) await attempt.succeeded(user.userId);               // throws rate_limited
 * ```
 */
export class LoginLimiter {
  readonly #perIp: RateLimiterAbstract | null;
  readonly #perUser: RateLimiterAbstract | null;
  readonly #successPerUser: RateLimiterAbstract | null;
  readonly #successPerIp: RateLimiterAbstract | null;
  readonly #loginKey: LoginKey;

  constructor(limits: ResolvedRateLimits, backend: LimiterBackend) {
    this.#perIp = limits.loginPerIp ? createLimiter(backend, "login-ip", limits.loginPerIp) : null;
    this.#perUser = limits.loginPerUser ? createLimiter(backend, "login-user", limits.loginPerUser) : null;
    this.#successPerUser = limits.successPerUser
      ? createLimiter(backend, "login-ok-user", limits.successPerUser)
      : null;
    this.#successPerIp = limits.successPerIp ? createLimiter(backend, "login-ok-ip", limits.successPerIp) : null;
    this.#loginKey = limits.loginKey;
  }

  /**
   * The login name of `credentials` (see {@link LoginKey}); null when there is none. Throws
   * 400 `invalid_request` when the name is present but malformed. Runs whether or not a
   * per-name limit is on: `authenticate` never sees a name the limiter could not count.
   */
  loginName(credentials: Credentials): string | null {
    const name = this.#loginKey(credentials);
    if (name === false) {
      throw new SoloError("invalid_request", {}, "The login name must be a string.");
    }
    return typeof name === "string" && name !== "" ? name : null;
  }

  /** Counts an attempt from `address` for the login `name` (from {@link loginName}); throws `rate_limited` when over a limit. */
  async begin(address: string, name: string | null): Promise<LoginAttempt> {
    const userKey = this.#perUser && name !== null ? loginNameKey(name) : null;
    const ipKey = addressKey(address);
    const results = await Promise.allSettled([
      this.#perIp ? this.#perIp.consume(ipKey) : Promise.resolve(null),
      this.#perUser && userKey ? this.#perUser.consume(userKey) : Promise.resolve(null),
    ]);
    refuseIfLimited(results);
    return {
      succeeded: async (userId: string) => {
        await Promise.allSettled([
          this.#perIp?.reward(ipKey, 1),
          this.#perUser && userKey ? this.#perUser.delete(userKey) : null,
        ]);
        await this.countSuccess(address, userId);
      },
    };
  }

  /**
   * Counts a successful sign-in of `userId` from `address` (per user and per address); throws
   * `rate_limited` over a success limit, before any session is opened. The app's own login
   * route reaches it through `startSession`.
   */
  async countSuccess(address: string, userId: string): Promise<void> {
    refuseIfLimited(
      await Promise.allSettled([
        this.#successPerUser ? this.#successPerUser.consume(userIdKey(userId)) : Promise.resolve(null),
        this.#successPerIp ? this.#successPerIp.consume(addressKey(address)) : Promise.resolve(null),
      ]),
    );
  }
}
