import { hostname } from "node:os";
import type { Request } from "express";
import type { Logger } from "pino";
import type { Transport } from "../../protocol/index.js";
import { type RateLimitOptions, type ResolvedRateLimits, resolveRateLimits } from "../ratelimit/limits.js";
import { assertPolicySpec, type PolicyOption } from "../sessions/policy.js";
import type { AuthenticatedUser, Credentials } from "../sessions/user.js";
import { STORE_DEFAULTS } from "../store/defaults.js";
import type { SessionStore } from "../store/types.js";
import type { PrivateJwks } from "../tokens/key-ring.js";

/**
 * Checks a login's credentials. Return the user, or null for wrong credentials (answered
 * with 401 `invalid_credentials`). Throwing answers 500 `internal_error`.
 */
export type Authenticate = (
  credentials: Credentials,
  req: Request,
) => Promise<AuthenticatedUser | null> | AuthenticatedUser | null;

/** Redis settings for `store: "redis"` (several nodes sharing one Redis). */
export interface RedisOptions {
  /** @default "redis://127.0.0.1:6379" */
  url?: string;
  /** Prefix of every key and pub/sub channel: letters, digits, `_ . : -`. @default "solo" */
  keyPrefix?: string;
  /**
   * The Socket.IO Redis adapter installed at `attach()`: `true` picks the sharded one on Redis 7+
   * and the classic one before; `false` installs none (your Socket.IO server brings its own). @default true
   */
  adapter?: boolean | "sharded" | "classic";
  /** Every node re-checks its sockets against the store this often (and after each Redis reconnect). @default 30_000 */
  reconcileInterval?: number;
}

/** Cookie settings. */
export interface CookieOptions {
  /** @default "solo_session" (and `__Host-solo_session` when secure) */
  name?: string;
  /** `true`, `false`, or `"auto"`: secure when the request came over https. @default "auto" */
  secure?: boolean | "auto";
  /** @default "lax" */
  sameSite?: "lax" | "strict";
}

/** Options of `createSoloServer`. Durations are in milliseconds. */
export interface SoloServerOptions {
  /** Checks credentials at login. Required. */
  authenticate: Authenticate;
  /** Where sessions live. @default "sqlite" */
  store?: "sqlite" | "memory" | "redis" | SessionStore;
  /** Directory of the SQLite database and the generated signing keys. @default "./data" */
  dataDir?: string;
  /** For `store: "redis"`. */
  redis?: RedisOptions;
  /** @default "newest-wins" */
  policy?: PolicyOption;
  /** Under `oldest-wins`: a session with no live socket and no request for this long is abandoned. @default 60_000 */
  abandonGrace?: number;
  /** Token `iss`. @default "solo-session" */
  issuer?: string;
  /** Token `aud`. @default "solo-session" */
  audience?: string;
  /** Private JWK set (object or JSON); the first key signs. @default keys generated in `dataDir` */
  signingKeys?: PrivateJwks | string;
  /** Absolute lifetime of a session and its token. @default 8 hours */
  maxAge?: number;
  /** A session with no activity for this long ends with reason `idle`. @default 30 minutes */
  idleTimeout?: number;
  /**
   * Activity is written to the store at most this often per session; must be shorter than
   * `idleTimeout`. @default a quarter of `idleTimeout`, at most 60_000
   */
  touchInterval?: number;
  /**
   * A live session read from the store answers this node's later checks for this long (ms).
   * Every end made on this node, or announced by another node through the Redis adapter, is
   * seen at once; only an end this node is not told of waits for it. 0 reads the store on
   * every request. @default 1000
   */
  sessionCacheTtl?: number;
  /** How often idle and expired sessions are looked for and told. @default 15_000 */
  sweepInterval?: number;
  /** Allowed clock skew when checking token times, in seconds. @default 5 */
  clockTolerance?: number;
  /** How long to wait for the client's acknowledgement of `session:revoked` before disconnecting. @default 3000 */
  ackTimeout?: number;
  /** Browser origins allowed besides the server's own (Socket.IO handshake, CORS, CSRF check). @default [] */
  allowedOrigins?: readonly string[];
  /**
   * The server's own origin as browsers reach it, e.g. `"https://app.example.com"`. When set,
   * only it (and `allowedOrigins`) counts as the server's own origin and the `Host` header is
   * not trusted for that: a DNS-rebinding page (its own name resolved to this server) is then
   * refused. Without it, the scheme and `Host` of each request stand for the own origin.
   * @default undefined
   */
  publicOrigin?: string;
  /**
   * The Engine.IO transports the Socket.IO server that `attach()` creates accepts. WebSocket
   * only by default: no long-polling requests to check, no sticky sessions behind a load
   * balancer. Add `"polling"` (on the SDK too) behind proxies that do not pass WebSocket.
   * JSONP polling is refused either way. @default ["websocket"]
   */
  transports?: readonly Transport[];
  /** @default {} */
  cookie?: CookieOptions;
  /**
   * Trust `X-Forwarded-Proto` to tell https and the last `X-Forwarded-For` entry as the client's
   * address (set when behind one TLS-terminating proxy). @default false
   */
  trustProxy?: boolean;
  /** Login and handshake rate limits; `false` turns them all off. @default see `RATE_LIMIT_DEFAULTS` */
  rateLimit?: RateLimitOptions | false;
  /**
   * A Socket.IO connection that has not joined an authenticated namespace (`/session`, `/admin`)
   * this long after opening, or since it left the last one, is closed. @default 10_000
   */
  handshakeTimeout?: number;
  /**
   * How often the server pings each Socket.IO connection (engine.io `pingInterval`). With
   * `pingTimeout`, it bounds how long a connection whose browser vanished without closing it (a
   * network gone, a laptop put to sleep; with polling on, a tab closed mid-upgrade) still counts
   * as connected: at most `pingInterval + pingTimeout`. Browsers answer a ping as it arrives (no timer is
   * involved, so hidden tabs answer too); a shorter interval costs one small frame per
   * connection per interval. Applies to the Socket.IO server that `attach()` creates, not to
   * one you pass in. @default 10_000
   */
  pingInterval?: number;
  /**
   * How long the server waits for the answer to a ping before it closes the connection
   * (engine.io `pingTimeout`); the SDK then reconnects. Raise it for links that can stall for
   * longer (a slow mobile network). @default 5000
   */
  pingTimeout?: number;
  /** How often `<dataDir>/keys.json` is checked for a rotation; 0 turns the check off. @default 2000 */
  keyReloadInterval?: number;
  /** Ended sessions are remembered this long after their token expired. @default 24 hours */
  tombstoneRetention?: number;
  /** Audit events are kept this long. @default 90 days */
  auditRetention?: number;
  /** This node's name in the audit trail. @default hostname:pid */
  nodeId?: string;
  /** Epoch milliseconds now. Inject for tests. @default Date.now */
  clock?: () => number;
  /** A pino logger. @default pino at level `LOG_LEVEL` (or "info") */
  logger?: Logger;
  /**
   * Shared secret (at least 16 characters) that other services send as
   * `Authorization: Bearer <secret>` to `POST /auth/introspect`. Without it, only an admin's
   * session token is accepted there. @default undefined
   */
  introspectSecret?: string;
}

/** Options after defaults, as the modules use them. */
export interface ResolvedOptions {
  authenticate: Authenticate;
  store: "sqlite" | "memory" | "redis" | SessionStore;
  dataDir: string;
  /**
   * Where generated signing keys live: `dataDir`, unless the store is memory and no `dataDir` was
   * given (then keys live in memory too, and die with the process).
   */
  keysDir: string | null;
  redis: Required<RedisOptions>;
  policy: PolicyOption;
  abandonGrace: number;
  issuer: string;
  audience: string;
  signingKeys: PrivateJwks | string | undefined;
  maxAge: number;
  idleTimeout: number;
  touchInterval: number;
  sessionCacheTtl: number;
  sweepInterval: number;
  clockTolerance: number;
  ackTimeout: number;
  allowedOrigins: readonly string[];
  publicOrigin: string | null;
  transports: readonly Transport[];
  cookie: Required<CookieOptions>;
  trustProxy: boolean;
  rateLimit: ResolvedRateLimits;
  handshakeTimeout: number;
  pingInterval: number;
  pingTimeout: number;
  keyReloadInterval: number;
  tombstoneRetention: number;
  auditRetention: number;
  nodeId: string;
  clock: () => number;
  logger: Logger | undefined;
  introspectSecret: string | null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The stores' own defaults (Redis command timeout, SQLite checkpoint interval, audit cap...). */
export { STORE_DEFAULTS } from "../store/defaults.js";

/** The defaults, in one place (the stores' own in {@link STORE_DEFAULTS}). */
export const DEFAULTS = {
  store: "sqlite",
  dataDir: "./data",
  redis: {
    url: STORE_DEFAULTS.redis.url,
    keyPrefix: STORE_DEFAULTS.redis.keyPrefix,
    adapter: true,
    reconcileInterval: 30_000,
  },
  policy: "newest-wins",
  abandonGrace: MINUTE,
  issuer: "solo-session",
  audience: "solo-session",
  maxAge: 8 * HOUR,
  idleTimeout: 30 * MINUTE,
  /** The longest default touch interval; shorter idle timeouts get a quarter of theirs ({@link defaultTouchInterval}). */
  touchInterval: MINUTE,
  sessionCacheTtl: 1000,
  sweepInterval: 15_000,
  clockTolerance: 5,
  ackTimeout: 3000,
  allowedOrigins: [],
  transports: ["websocket"],
  cookie: { name: "solo_session", secure: "auto", sameSite: "lax" },
  trustProxy: false,
  handshakeTimeout: 10_000,
  pingInterval: 10_000,
  pingTimeout: 5000,
  keyReloadInterval: 2000,
  tombstoneRetention: STORE_DEFAULTS.tombstoneRetention,
  auditRetention: STORE_DEFAULTS.auditRetention,
} as const satisfies Partial<ResolvedOptions>;

/**
 * Applies defaults and validates. Throws a TypeError naming the bad option, at construction
 * rather than at the first request.
 */
export function resolveOptions(options: SoloServerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("createSoloServer: options are required");
  if (typeof options.authenticate !== "function") {
    throw new TypeError("createSoloServer: options.authenticate must be a function (credentials, req) => user | null");
  }
  const store = options.store ?? DEFAULTS.store;
  if (typeof store === "string" && !["sqlite", "memory", "redis"].includes(store)) {
    throw new TypeError(
      `createSoloServer: options.store must be "sqlite", "memory", "redis" or a SessionStore, got "${store}"`,
    );
  }
  if (typeof store === "object" && (store === null || typeof store.claim !== "function")) {
    throw new TypeError("createSoloServer: options.store must implement SessionStore");
  }
  const policy = options.policy ?? DEFAULTS.policy;
  if (typeof policy !== "function") assertPolicySpec(policy, "createSoloServer: options.policy");

  const idleTimeout = duration("idleTimeout", options.idleTimeout, DEFAULTS.idleTimeout, 1000);
  const resolved: ResolvedOptions = {
    authenticate: options.authenticate,
    store,
    dataDir: options.dataDir ?? DEFAULTS.dataDir,
    keysDir: options.dataDir !== undefined || store !== "memory" ? (options.dataDir ?? DEFAULTS.dataDir) : null,
    redis: redisOptions(options.redis),
    policy,
    abandonGrace: duration("abandonGrace", options.abandonGrace, DEFAULTS.abandonGrace),
    issuer: text("issuer", options.issuer, DEFAULTS.issuer),
    audience: text("audience", options.audience, DEFAULTS.audience),
    signingKeys: options.signingKeys,
    maxAge: duration("maxAge", options.maxAge, DEFAULTS.maxAge, 1000),
    idleTimeout,
    touchInterval: duration("touchInterval", options.touchInterval, defaultTouchInterval(idleTimeout)),
    sessionCacheTtl: duration("sessionCacheTtl", options.sessionCacheTtl, DEFAULTS.sessionCacheTtl),
    sweepInterval: duration("sweepInterval", options.sweepInterval, DEFAULTS.sweepInterval, 10),
    clockTolerance: duration("clockTolerance", options.clockTolerance, DEFAULTS.clockTolerance),
    ackTimeout: duration("ackTimeout", options.ackTimeout, DEFAULTS.ackTimeout, 1),
    allowedOrigins: origins(options.allowedOrigins ?? DEFAULTS.allowedOrigins),
    publicOrigin: options.publicOrigin === undefined ? null : origin("publicOrigin", options.publicOrigin),
    transports: transports(options.transports ?? DEFAULTS.transports),
    cookie: { ...DEFAULTS.cookie, ...options.cookie },
    trustProxy: options.trustProxy ?? DEFAULTS.trustProxy,
    rateLimit: resolveRateLimits(options.rateLimit),
    handshakeTimeout: duration("handshakeTimeout", options.handshakeTimeout, DEFAULTS.handshakeTimeout, 1),
    pingInterval: duration("pingInterval", options.pingInterval, DEFAULTS.pingInterval, 1),
    pingTimeout: duration("pingTimeout", options.pingTimeout, DEFAULTS.pingTimeout, 1),
    keyReloadInterval: duration("keyReloadInterval", options.keyReloadInterval, DEFAULTS.keyReloadInterval),
    tombstoneRetention: duration("tombstoneRetention", options.tombstoneRetention, DEFAULTS.tombstoneRetention),
    auditRetention: duration("auditRetention", options.auditRetention, DEFAULTS.auditRetention),
    nodeId: text("nodeId", options.nodeId, `${hostname()}:${process.pid}`),
    clock: options.clock ?? Date.now,
    logger: options.logger,
    introspectSecret: secret("introspectSecret", options.introspectSecret),
  };
  if (typeof resolved.clock !== "function") throw new TypeError("createSoloServer: options.clock must be a function");
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(resolved.cookie.name)) {
    throw new TypeError(`createSoloServer: options.cookie.name "${resolved.cookie.name}" is not a valid cookie name`);
  }
  if (!["lax", "strict"].includes(resolved.cookie.sameSite)) {
    throw new TypeError('createSoloServer: options.cookie.sameSite must be "lax" or "strict"');
  }
  if (resolved.touchInterval >= resolved.idleTimeout) {
    throw new TypeError("createSoloServer: options.touchInterval must be shorter than options.idleTimeout");
  }
  return resolved;
}

/**
 * The touch interval used when none is given: a quarter of the idle timeout, at most
 * `DEFAULTS.touchInterval` (60 s), so that the idle deadline is exact to within a quarter of it
 * and a short idle timeout (45 s, 60 s) works without setting it.
 *
 * @example
 * ```ts
 * defaultTouchInterval(45_000);    // → 11_250
 * defaultTouchInterval(1_800_000); // → 60_000
 * ```
 */
export function defaultTouchInterval(idleTimeout: number): number {
  return Math.min(DEFAULTS.touchInterval, Math.floor(idleTimeout / 4));
}

function redisOptions(given: RedisOptions | undefined): Required<RedisOptions> {
  const redis = { ...DEFAULTS.redis, ...given };
  if (typeof redis.url !== "string" || !/^rediss?:\/\//.test(redis.url)) {
    throw new TypeError(`createSoloServer: options.redis.url must be a redis:// or rediss:// URL`);
  }
  if (typeof redis.keyPrefix !== "string" || !/^[\w.:-]{1,64}$/.test(redis.keyPrefix)) {
    throw new TypeError("createSoloServer: options.redis.keyPrefix must be 1-64 letters, digits, _ . : or -");
  }
  if (![true, false, "sharded", "classic"].includes(redis.adapter))
    throw new TypeError('createSoloServer: options.redis.adapter must be true, false, "sharded" or "classic"');
  redis.reconcileInterval = duration(
    "redis.reconcileInterval",
    given?.reconcileInterval,
    DEFAULTS.redis.reconcileInterval,
    100,
  );
  return redis;
}

function duration(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new TypeError(`createSoloServer: options.${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

function text(name: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`createSoloServer: options.${name} must be a non-empty string`);
  }
  return value;
}

function secret(name: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value !== "string" || value.length < 16) {
    throw new TypeError(`createSoloServer: options.${name} must be a string of at least 16 characters`);
  }
  return value;
}

function origins(list: readonly string[]): readonly string[] {
  if (!Array.isArray(list)) throw new TypeError("createSoloServer: options.allowedOrigins must be an array of origins");
  return list.map((o) => origin("allowedOrigins", o));
}

/** An http(s) origin as given (a trailing slash is dropped), normalised; a TypeError names the option otherwise. */
function origin(name: string, value: string): string {
  let url: URL | null = null;
  try {
    url = typeof value === "string" ? new URL(value) : null;
  } catch {}
  if (!url || !/^https?:$/.test(url.protocol) || url.origin !== value.replace(/\/$/, "")) {
    throw new TypeError(
      `createSoloServer: options.${name}: "${String(value)}" is not an origin like https://app.example.com`,
    );
  }
  return url.origin;
}

function transports(list: readonly Transport[]): readonly Transport[] {
  const known: readonly string[] = ["websocket", "polling"];
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((t) => known.includes(t)) ||
    new Set(list).size !== list.length
  ) {
    throw new TypeError('createSoloServer: options.transports must be ["websocket"], ["polling"] or both');
  }
  return [...list];
}

/**
 * Parses a duration as written in the environment: `90s`, `30m`, `8h`, `2d`, `500ms`, or a
 * number of seconds. Throws a TypeError naming the variable.
 *
 * @example
 * ```ts
 * parseDuration("30m", "SOLO_IDLE_TIMEOUT") // → 1_800_000
 * ```
 */
export function parseDuration(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new TypeError(`${name} must be a duration like 90s, 30m or 8h, got "${value}"`);
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: 24 * HOUR }[unit] ?? 1000;
  return Math.round(n * factor);
}
