/**
 * The options of `createSoloServer` (`SoloServerOptions`, every one documented with its default)
 * and what they resolve to (`ResolvedOptions`).
 *
 * @module
 */

import type { Request } from "express";
import type { Logger } from "pino";
import type { Transport } from "../../protocol/index.js";
import type { RateLimitOptions, ResolvedRateLimits } from "../ratelimit/limits.js";
import type { PolicyOption } from "../sessions/policy.js";
import type { AuthenticatedUser, Credentials } from "../sessions/user.js";
import type { RedisConnectionOptions, RedisTarget, ReplicaAck, ReplicasOption } from "../store/redis/connection.js";
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

/**
 * Redis settings for `store: "redis"` (several nodes sharing one Redis deployment). The
 * deployment is one of `url` (one server: the default), `cluster` (Redis Cluster:
 * `[{ host, port }, ...]`) or `sentinels` with `name` (a primary managed by Redis Sentinel).
 */
export interface RedisOptions extends RedisConnectionOptions {
  /**
   * Replicas that must have each session write (a claim, an end) before it is acknowledged
   * (`WAIT`); a write fewer replicas confirm within `timeout` ms answers 503
   * `store_unavailable`. `false` waits for none (a failover can then lose acknowledged claims
   * and ends: see docs/redis.md). @default `{ wait: 1, timeout: 500 }` with `cluster` or
   * `sentinels`; none with `url`
   */
  replicas?: ReplicasOption;
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

/** {@link RedisOptions} after defaults and validation. */
export interface ResolvedRedisOptions {
  /** The deployment. */
  target: RedisTarget;
  /** Replicas each session write waits for; null for none. */
  replicas: ReplicaAck | null;
  keyPrefix: string;
  adapter: boolean | "sharded" | "classic";
  reconcileInterval: number;
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
  redis: ResolvedRedisOptions;
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
