/**
 * The options of `createSoloServer` (`SoloServerOptions`, every one documented with its default)
 * and what they resolve to (`ResolvedOptions`).
 *
 *
 * Longer than ~300 lines because every option carries its documentation and default here, in
 * one place, where an editor shows it.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import type { Request } from "express";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { SessionView, Transport } from "../../protocol/index.js";
import type { DeliveryOptions, Receiver, ReceiverOption } from "../events/receivers.js";
import type { RateLimitOptions, ResolvedRateLimits } from "../ratelimit/limits.js";
import type { CookieOptions } from "../request/cookies.js";
import type { TokenSource } from "../request/credentials.js";
import type { DisputeEnds } from "../sessions/disputes.js";
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

/** What the `onDispute` hook is told: a person said "This wasn't me" about a sign-in. */
export interface DisputeEvent {
  userId: string;
  /** The session that took over: the sign-in the person says was not them. */
  disputed: SessionView;
  /** The replaced session, from whose device the person disputed. */
  by: SessionView;
  /** The sessions the dispute ended (reason `revoked`), newest first. */
  ended: SessionView[];
  /** The `POST /auth/dispute` request. */
  req: Request;
}

/**
 * The app's hook for a dispute, called once the dispute has ended the sessions (and before the
 * answer): lock the account, demand a password reset, alert the security team. Throwing (or
 * rejecting) answers 500 `internal_error`; the sessions stay ended and the dispute stays audited.
 */
export type OnDispute = (event: DisputeEvent) => void | Promise<void>;

/** "This wasn't me": the dispute of a replacement from the device it signed out. */
export interface DisputeOptions {
  /**
   * How long after a replacement the replaced device may dispute it (ms): the life of the
   * capability its notice carries. At least 10 seconds, at most a day. @default 600_000 (10 minutes)
   */
  ttl?: number;
  /**
   * What a dispute ends: `"all"`, every live session of the user (the intruder may hold more
   * than one); `"taker"`, only the session that took over. @default "all"
   */
  ends?: DisputeEnds;
}

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

/**
 * Where a request's session token is read (HTTP requests and Socket.IO handshakes alike). A
 * present but malformed credential is always `invalid_token`, never ignored.
 *
 * @example
 * ```ts
 * // A RealWorld-style API whose clients send `Authorization: Token <jwt>`:
 * createSoloServer({ authenticate, token: { schemes: ["Token", "Bearer"] } });
 * ```
 */
export interface TokenOptions {
  /** `Authorization` schemes that carry the token, compared case-insensitively. @default ["Bearer"] */
  schemes?: readonly string[];
  /** Read the session cookie (`cookie.name`) when a request has no `Authorization` header. @default true */
  cookie?: boolean;
  /**
   * Your own reader, replacing `schemes` and `cookie`: return the token, or null when the
   * request has none; throw `new SoloError("invalid_token")` for a malformed credential. Its
   * tokens count as ambient for the CSRF check (as a cookie would).
   */
  read?: (req: IncomingMessage) => string | null;
}

/** Settings of the PostgreSQL store's own connection pool. */
export interface PostgresPoolOptions {
  /** Connections per node at most. @default 10 */
  max?: number;
  /** A call that waits longer than this for a free connection fails with 503 `store_unavailable`. @default 2000 */
  connectionTimeoutMillis?: number;
  /** An idle connection is closed after this long. @default 10_000 */
  idleTimeoutMillis?: number;
}

/** PostgreSQL settings for `store: "postgres"` (several nodes sharing one database). */
export interface PostgresOptions {
  /**
   * Connection URL, e.g. `postgres://solo:secret@db.internal:5432/app`. Without it (and without
   * a `pool`), node-postgres's defaults and the `PG*` environment variables apply. @default undefined
   */
  url?: string;
  /**
   * The store's own pool's settings, or a `pg.Pool` of the app's own (then `url` is not used
   * and closing the server leaves the pool open). @default { max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000 }
   */
  pool?: PostgresPoolOptions | Pool;
  /** The schema of the tables (created if missing): lowercase letters, digits, `_`. @default "public" */
  schema?: string;
  /** Prefix of every table, index and notification channel: lowercase letters, digits, `_`. @default "solo_" */
  tablePrefix?: string;
  /**
   * The Socket.IO adapter installed at `attach()`: `"postgres"` (LISTEN/NOTIFY on the same
   * database), `"redis"` (the Socket.IO Redis adapter on `redis.url`), `true` to pick (`"redis"`
   * when `redis.url` is given, else `"postgres"`), or `false` for none (your Socket.IO server
   * brings its own). @default true
   */
  adapter?: boolean | "postgres" | "redis";
  /** Every node re-checks its sockets against the store this often (and after each reconnect). @default 30_000 */
  reconcileInterval?: number;
  /**
   * Every node reads the ends table this often besides on each notification: the bound on a
   * notification lost with the listening connection. @default 1000
   */
  endsPollInterval?: number;
}

export type { CookieOptions } from "../request/cookies.js";

/** Options of `createSoloServer`. Durations are in milliseconds. */
export interface SoloServerOptions {
  /**
   * Checks the credentials of `POST /auth/login`. Leave it out when the app keeps its own login
   * route and starts sessions with `solo.startSession()`: `POST /auth/login` then answers 404
   * `not_found`. @default none
   */
  authenticate?: Authenticate;
  /** Where sessions live. @default "sqlite" */
  store?: "sqlite" | "memory" | "redis" | "postgres" | SessionStore;
  /** Directory of the SQLite database and the generated signing keys. @default "./data" */
  dataDir?: string;
  /** For `store: "redis"` (and the Redis adapter of `store: "postgres"`). */
  redis?: RedisOptions;
  /** For `store: "postgres"`. */
  postgres?: PostgresOptions;
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
   * Where a request's session token is read: the `Authorization` schemes, whether the cookie is
   * read, or a function of your own. @default `{ schemes: ["Bearer"], cookie: true }`
   */
  token?: TokenOptions;
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
   * "This wasn't me": a replacement's notice (pushed, on reconnect, or in the 401) carries a
   * short-lived single-use capability for `POST /auth/dispute`, which ends the session that took
   * over. `false` turns disputes off (no capability is issued; the route answers 404).
   * @default `{ ttl: 600_000, ends: "all" }`
   */
  dispute?: DisputeOptions | false;
  /** Called for each accepted dispute (see {@link OnDispute}). @default none: the dispute only ends sessions */
  onDispute?: OnDispute;
  /**
   * Shared secret (at least 16 characters) that other services send as
   * `Authorization: Bearer <secret>` to `POST /auth/introspect`. Without it, only an admin's
   * session token is accepted there. @default undefined
   */
  introspectSecret?: string;
  /**
   * Other services told when a session ends, by a signed token POSTed to each: an OpenID
   * back-channel `logout_token` or a CAEP `session-revoked` SET. Delivered at least once, in
   * order per receiver, from an outbox in the store (memory and SQLite; see docs/receivers.md).
   * From the environment: `SOLO_RECEIVERS` as JSON. @default []
   */
  receivers?: readonly ReceiverOption[];
  /** How receivers' deliveries are timed out and retried. */
  delivery?: DeliveryOptions;
}

/** `postgres` after defaults: the adapter chosen, the pool's settings complete (or the app's pool). */
export interface ResolvedPostgresOptions {
  url: string | null;
  pool: Required<PostgresPoolOptions> | Pool;
  schema: string;
  tablePrefix: string;
  adapter: "postgres" | "redis" | false;
  reconcileInterval: number;
  endsPollInterval: number;
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
  authenticate: Authenticate | null;
  store: "sqlite" | "memory" | "redis" | "postgres" | SessionStore;
  dataDir: string;
  /**
   * Where generated signing keys live: `dataDir`, unless the store is memory and no `dataDir` was
   * given (then keys live in memory too, and die with the process).
   */
  keysDir: string | null;
  redis: ResolvedRedisOptions;
  postgres: ResolvedPostgresOptions;
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
  token: TokenSource;
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
  receivers: readonly Receiver[];
  delivery: Required<DeliveryOptions>;
  /** Null when disputes are off. */
  dispute: Required<DisputeOptions> | null;
  onDispute: OnDispute | null;
}
