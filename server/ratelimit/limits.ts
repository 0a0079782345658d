import type { Redis } from "ioredis";
import type { Credentials } from "../sessions/user.js";

/**
 * Rate limits: failed logins per client address and per login name (brute force and
 * credential stuffing), successful logins per user and per client address (session and audit
 * floods), disputes per user, Socket.IO handshakes per client address and per session (floods), open Socket.IO
 * connections per client address. Built on rate-limiter-flexible: in memory for one node, in
 * Redis when several nodes must share the counts (the login and dispute limits). Handshake and connection
 * limits are per node: connections are.
 *
 * @module
 */

/** One limit: at most `points` in `duration` milliseconds; past it, refused for `block` ms. */
export interface RateLimit {
  points: number;
  /** Window, in milliseconds (rounded up to whole seconds). */
  duration: number;
  /** How long a key stays refused once over the limit, in milliseconds. @default duration */
  block?: number;
}

/**
 * Reads the login name a login is counted under, from the credentials (the login body without
 * `device` and `takeover`):
 * - a string: the name (counted case- and space-insensitively);
 * - `null`: the body has no name; the login is counted under the client address only;
 * - `false`: the name is there but malformed (not a string): the login is refused with 400
 *   `invalid_request` before it is counted and before `authenticate` sees it, so that no
 *   spelling of a name (`["alice"]`, `{"0": "alice"}`) can get past the per-name limit.
 */
export type LoginKey = (credentials: Credentials) => string | null | false;

/** The `rateLimit` option of `createSoloServer`. `false` for a limit turns it off. */
export interface RateLimitOptions {
  /** Failed logins per client address. @default 30 per 15 minutes, then refused for 15 minutes */
  loginPerIp?: RateLimit | false;
  /** Failed logins per login name, from any address. @default 10 per 15 minutes, then refused for 15 minutes */
  loginPerUser?: RateLimit | false;
  /**
   * Successful logins per user id (after `authenticate`, before the session is opened): bounds
   * the sessions and audit rows one account can make. @default 20 per minute
   */
  successPerUser?: RateLimit | false;
  /** Successful logins per client address, any user (offices share one NAT address). @default 300 per minute */
  successPerIp?: RateLimit | false;
  /**
   * Disputes ("This wasn't me", `POST /auth/dispute`) per user, counted once the capability is
   * verified (a refused attempt counts too). @default 5 per 15 minutes, then refused for 15 minutes
   */
  disputePerUser?: RateLimit | false;
  /** Socket.IO handshakes per client address, per node. @default 60 per 10 seconds */
  handshakePerIp?: RateLimit | false;
  /** Socket.IO handshakes per session, per node. @default 20 per minute */
  handshakePerSession?: RateLimit | false;
  /**
   * Open Socket.IO connections per client address (an IPv6 /64 counts as one), per node;
   * past it, new ones are refused with `too_many_connections`. @default 100
   */
  connectionsPerIp?: number | false;
  /**
   * The login name of a login body (see {@link LoginKey}). @default {@link defaultLoginKey}:
   * `username`, else `email`; `false` when either is present but not a string
   */
  loginKey?: LoginKey;
  /**
   * An ioredis client: the login limits are kept in Redis and shared by every node.
   * @default a connection to the store's Redis deployment when the store is Redis, else memory
   */
  redis?: Redis;
}

/** The rate limits after defaults. */
export interface ResolvedRateLimits {
  loginPerIp: RateLimit | false;
  loginPerUser: RateLimit | false;
  successPerUser: RateLimit | false;
  successPerIp: RateLimit | false;
  disputePerUser: RateLimit | false;
  handshakePerIp: RateLimit | false;
  handshakePerSession: RateLimit | false;
  connectionsPerIp: number | false;
  loginKey: LoginKey;
  redis: Redis | null;
}

const MINUTE = 60_000;

/** The default limits, in one place. */
export const RATE_LIMIT_DEFAULTS = {
  loginPerIp: { points: 30, duration: 15 * MINUTE, block: 15 * MINUTE },
  loginPerUser: { points: 10, duration: 15 * MINUTE, block: 15 * MINUTE },
  successPerUser: { points: 20, duration: MINUTE },
  successPerIp: { points: 300, duration: MINUTE },
  disputePerUser: { points: 5, duration: 15 * MINUTE, block: 15 * MINUTE },
  handshakePerIp: { points: 60, duration: 10_000 },
  handshakePerSession: { points: 20, duration: MINUTE },
  connectionsPerIp: 100,
} as const satisfies Partial<Record<keyof ResolvedRateLimits, RateLimit | number>>;

/**
 * Applies defaults to the `rateLimit` option and validates it; a TypeError names the bad field.
 * `false` turns every limit off.
 */
export function resolveRateLimits(option: RateLimitOptions | false | undefined): ResolvedRateLimits {
  if (option === false) {
    return {
      loginPerIp: false,
      loginPerUser: false,
      successPerUser: false,
      successPerIp: false,
      disputePerUser: false,
      handshakePerIp: false,
      handshakePerSession: false,
      connectionsPerIp: false,
      loginKey: defaultLoginKey,
      redis: null,
    };
  }
  const o = option ?? {};
  if (typeof o !== "object" || o === null) throw new TypeError("createSoloServer: options.rateLimit must be an object");
  if (o.loginKey !== undefined && typeof o.loginKey !== "function") {
    throw new TypeError(
      "createSoloServer: options.rateLimit.loginKey must be a function (credentials) => string | null | false",
    );
  }
  if (
    o.redis !== undefined &&
    (typeof o.redis !== "object" || o.redis === null || typeof o.redis.eval !== "function")
  ) {
    throw new TypeError("createSoloServer: options.rateLimit.redis must be an ioredis client");
  }
  return {
    loginPerIp: limit("loginPerIp", o.loginPerIp, RATE_LIMIT_DEFAULTS.loginPerIp),
    loginPerUser: limit("loginPerUser", o.loginPerUser, RATE_LIMIT_DEFAULTS.loginPerUser),
    successPerUser: limit("successPerUser", o.successPerUser, RATE_LIMIT_DEFAULTS.successPerUser),
    successPerIp: limit("successPerIp", o.successPerIp, RATE_LIMIT_DEFAULTS.successPerIp),
    disputePerUser: limit("disputePerUser", o.disputePerUser, RATE_LIMIT_DEFAULTS.disputePerUser),
    handshakePerIp: limit("handshakePerIp", o.handshakePerIp, RATE_LIMIT_DEFAULTS.handshakePerIp),
    handshakePerSession: limit("handshakePerSession", o.handshakePerSession, RATE_LIMIT_DEFAULTS.handshakePerSession),
    connectionsPerIp: cap("connectionsPerIp", o.connectionsPerIp, RATE_LIMIT_DEFAULTS.connectionsPerIp),
    loginKey: o.loginKey ?? defaultLoginKey,
    redis: o.redis ?? null,
  };
}

function limit(name: string, value: RateLimit | false | undefined, fallback: RateLimit): RateLimit | false {
  if (value === false) return false;
  if (value === undefined) return fallback;
  const ok =
    typeof value === "object" &&
    value !== null &&
    Number.isInteger(value.points) &&
    value.points >= 1 &&
    Number.isFinite(value.duration) &&
    value.duration >= 1 &&
    (value.block === undefined || (Number.isFinite(value.block) && value.block >= 0));
  if (!ok) {
    throw new TypeError(
      `createSoloServer: options.rateLimit.${name} must be false or { points: integer >= 1, duration: ms >= 1, block?: ms >= 0 }`,
    );
  }
  return value;
}

function cap(name: string, value: number | false | undefined, fallback: number): number | false {
  if (value === undefined) return fallback;
  if (value === false || (Number.isInteger(value) && value >= 1)) return value;
  throw new TypeError(`createSoloServer: options.rateLimit.${name} must be false or an integer >= 1`);
}

/** The fields {@link defaultLoginKey} reads, in order. */
const LOGIN_NAME_FIELDS = ["username", "email"] as const;

/**
 * The default {@link LoginKey}: `username`, else `email` (the first that is a non-blank
 * string); `false` when either field is present with anything but a string (an array, an
 * object, a number, `null`); `null` when neither holds a name.
 *
 * @example
 * ```ts
 * defaultLoginKey({ username: "alice", password: "x" });   // → "alice"
 * defaultLoginKey({ username: ["alice"], password: "x" }); // → false (400 invalid_request)
 * defaultLoginKey({ password: "x" });                      // → null
 * ```
 */
export function defaultLoginKey(credentials: Credentials): string | null | false {
  let name: string | null = null;
  for (const field of LOGIN_NAME_FIELDS) {
    if (!Object.hasOwn(credentials, field)) continue;
    const value = credentials[field];
    if (typeof value !== "string") return false;
    if (name === null && value.trim() !== "") name = value;
  }
  return name;
}
