import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { Redis as IORedis, type Redis } from "ioredis";
import type { Logger } from "pino";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { SoloError } from "./errors.js";
import type { Credentials } from "./options.js";

/**
 * Rate limits: failed logins per client address and per login name (brute force and
 * credential stuffing), successful logins per user and per client address (session and audit
 * floods), Socket.IO handshakes per client address and per session (floods), open Socket.IO
 * connections per client address. Built on rate-limiter-flexible: in memory for one node, in
 * Redis when several nodes must share the counts (the login limits). Handshake and connection
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
   * @default a client of `redis.url` when `store` is `"redis"`, else memory
   */
  redis?: Redis;
}

/** The rate limits after defaults. */
export interface ResolvedRateLimits {
  loginPerIp: RateLimit | false;
  loginPerUser: RateLimit | false;
  successPerUser: RateLimit | false;
  successPerIp: RateLimit | false;
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
  handshakePerIp: { points: 60, duration: 10_000 },
  handshakePerSession: { points: 20, duration: MINUTE },
  connectionsPerIp: 100,
} as const satisfies Partial<Record<keyof ResolvedRateLimits, RateLimit | number>>;

/** Longest login name counted; longer ones are hashed all the same. */
const MAX_LOGIN_NAME = 256;

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

/** Where the counters live. */
export type LimiterBackend = { kind: "memory" } | { kind: "redis"; client: Redis; prefix: string };

/**
 * Chooses where the login counters live: the `rateLimit.redis` client when given; a client of
 * the store's Redis when the store is Redis and a login limit is on; else memory. Keys are
 * prefixed with `redis.keyPrefix`. `close()` disconnects a client it opened itself.
 *
 * @example
 * ```ts
 * const { backend, close } = openLimiterBackend(limits, { url: "redis://127.0.0.1:6379", keyPrefix: "solo" }, true, logger);
 * ```
 */
export function openLimiterBackend(
  limits: ResolvedRateLimits,
  redis: { url: string; keyPrefix: string },
  storeIsRedis: boolean,
  logger: Pick<Logger, "warn">,
): { backend: LimiterBackend; close(): void } {
  const prefix = redis.keyPrefix;
  if (limits.redis) return { backend: { kind: "redis", client: limits.redis, prefix }, close: () => {} };
  const loginLimits =
    limits.loginPerIp !== false ||
    limits.loginPerUser !== false ||
    limits.successPerUser !== false ||
    limits.successPerIp !== false;
  if (!storeIsRedis || !loginLimits) return { backend: { kind: "memory" }, close: () => {} };
  const client = new IORedis(redis.url);
  client.on("error", (error: Error) => logger.warn({ err: error }, "rate limit store unreachable; limiting in memory"));
  return { backend: { kind: "redis", client, prefix }, close: () => client.disconnect() };
}

/**
 * Builds one limiter on the backend. A Redis limiter falls back to a memory limiter with the
 * same limit while Redis cannot be reached (rate-limiter-flexible's insurance limiter), so a
 * Redis outage neither opens the gate nor locks everyone out.
 */
export function createLimiter(backend: LimiterBackend, name: string, limit: RateLimit): RateLimiterAbstract {
  const options = {
    keyPrefix: name,
    points: limit.points,
    duration: Math.max(1, Math.ceil(limit.duration / 1000)),
    blockDuration: Math.ceil((limit.block ?? limit.duration) / 1000),
  };
  if (backend.kind === "memory") return new RateLimiterMemory(options);
  return new RateLimiterRedis({
    ...options,
    keyPrefix: `${backend.prefix}:rl:${name}`,
    storeClient: backend.client,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(options),
  });
}

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
        refuseIfLimited(
          await Promise.allSettled([
            this.#successPerUser ? this.#successPerUser.consume(userIdKey(userId)) : Promise.resolve(null),
            this.#successPerIp ? this.#successPerIp.consume(ipKey) : Promise.resolve(null),
          ]),
        );
      },
    };
  }
}

/**
 * Limits Socket.IO handshakes per client address and per session, on this node. Each check
 * resolves to null (go ahead) or the error to refuse with.
 */
export class HandshakeLimiter {
  readonly #perIp: RateLimiterAbstract | null;
  readonly #perSession: RateLimiterAbstract | null;

  constructor(limits: Pick<ResolvedRateLimits, "handshakePerIp" | "handshakePerSession">) {
    const memory: LimiterBackend = { kind: "memory" };
    this.#perIp = limits.handshakePerIp ? createLimiter(memory, "handshake-ip", limits.handshakePerIp) : null;
    this.#perSession = limits.handshakePerSession
      ? createLimiter(memory, "handshake-session", limits.handshakePerSession)
      : null;
  }

  /** One handshake from `address`: null, or `rate_limited`. */
  async byAddress(address: string): Promise<SoloError | null> {
    if (!this.#perIp) return null;
    try {
      refuseIfLimited(await Promise.allSettled([this.#perIp.consume(addressKey(address))]));
      return null;
    } catch (error) {
      if (error instanceof SoloError) return error;
      throw error;
    }
  }

  /** One handshake of session `sessionId`: null, or `too_many_connections`. */
  async bySession(sessionId: string): Promise<SoloError | null> {
    if (!this.#perSession) return null;
    try {
      await this.#perSession.consume(sessionId);
      return null;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return new SoloError("too_many_connections", { retryAfter: retryAfterSeconds(error.msBeforeNext) });
    }
  }
}

/** Throws `rate_limited` (with the longest wait) when any consumption was refused; rethrows store errors. */
function refuseIfLimited(results: PromiseSettledResult<unknown>[]): void {
  let wait = -1;
  for (const result of results) {
    if (result.status === "fulfilled") continue;
    if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
    wait = Math.max(wait, result.reason.msBeforeNext);
  }
  if (wait >= 0) throw new SoloError("rate_limited", { retryAfter: retryAfterSeconds(wait) });
}

function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The address a request came from: the socket's peer, or with `trustProxy` the last entry of
 * `X-Forwarded-For` (the address the trusted proxy saw; entries before it are the client's word).
 *
 * @example
 * ```ts
 * clientAddress(req, true); // "203.0.113.7" behind a proxy that appended it
 * ```
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const value = Array.isArray(forwarded) ? forwarded[forwarded.length - 1] : forwarded;
    const last = value?.split(",").pop()?.trim();
    if (last && isIP(last)) return last;
  }
  return req.socket.remoteAddress ?? "unknown";
}

/**
 * The counter key of an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 network,
 * since one host usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("%")[0]?.split("::") ?? [];
  const left = head ? head.split(":") : [];
  const right = address.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The counter key of a user id: hashed, like login names (ids are not stored in clear either). */
function userIdKey(userId: string): string {
  return createHash("sha256").update(userId, "utf8").digest("base64url").slice(0, 32);
}

/** The counter key of a login name: case- and space-insensitive, hashed (names are not stored in clear). */
export function loginNameKey(name: string): string {
  const normalized = name.normalize("NFKC").trim().toLowerCase().slice(0, MAX_LOGIN_NAME);
  return createHash("sha256").update(normalized, "utf8").digest("base64url").slice(0, 32);
}

/**
 * Counts the open Socket.IO connections of each client address on this node and refuses a
 * new one past the cap. A connection is reserved when its handshake is admitted and counted
 * once it opens; a reservation whose handshake failed before the connection opened is
 * released after the current turn of the event loop (admitting a handshake and opening its
 * connection happen in one turn).
 *
 * @example
 * ```ts
 * const connections = new ConnectionLimiter(100);
 * if (!connections.reserve(address)) refuse("too_many_connections");
 * engine.on("connection", (conn) => conn.once("close", connections.opened(address)));
 * ```
 */
export class ConnectionLimiter {
  readonly #cap: number | false;
  readonly #open = new Map<string, number>();

  constructor(cap: number | false) {
    this.#cap = cap;
  }

  /** Holds a place for a connection from `address`; false when the address is at the cap. */
  reserve(address: string): boolean {
    if (this.#cap === false) return true;
    const key = addressKey(address);
    const count = this.#open.get(key) ?? 0;
    if (count >= this.#cap) return false;
    this.#open.set(key, count + 1);
    setImmediate(() => this.#release(key));
    return true;
  }

  /** A connection from `address` opened; call the returned function once when it closes. */
  opened(address: string): () => void {
    if (this.#cap === false) return () => {};
    const key = addressKey(address);
    this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.#release(key);
    };
  }

  /** Open connections (and reservations) of `address` on this node. */
  count(address: string): number {
    return this.#open.get(addressKey(address)) ?? 0;
  }

  #release(key: string): void {
    const count = (this.#open.get(key) ?? 0) - 1;
    if (count > 0) this.#open.set(key, count);
    else this.#open.delete(key);
  }
}
