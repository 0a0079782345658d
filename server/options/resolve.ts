/**
 * Applies the defaults and validates the options at construction: a TypeError naming the bad
 * option, never a failure at the first request.
 *
 * @module
 */

import { hostname } from "node:os";
import type { Transport } from "../../protocol/index.js";
import { resolveDelivery, resolveReceivers } from "../events/receivers.js";
import { resolveRateLimits } from "../ratelimit/limits.js";
import type { TokenSource } from "../request/credentials.js";
import { assertPolicySpec } from "../sessions/policy.js";
import { namingProblem } from "../store/postgres/schema.js";
import { redisTarget, replicaAck } from "../store/redis/connection.js";
import { DEFAULTS, defaultTouchInterval, STORE_DEFAULTS } from "./defaults.js";
import type {
  DisputeOptions,
  PostgresOptions,
  PostgresPoolOptions,
  RedisOptions,
  ResolvedOptions,
  ResolvedPostgresOptions,
  ResolvedRedisOptions,
  SoloServerOptions,
  TokenOptions,
} from "./types.js";

/**
 * Applies defaults and validates. Throws a TypeError naming the bad option, at construction
 * rather than at the first request.
 */
export function resolveOptions(options: SoloServerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("createSoloServer: options are required");
  if (options.authenticate !== undefined && typeof options.authenticate !== "function") {
    throw new TypeError("createSoloServer: options.authenticate must be a function (credentials, req) => user | null");
  }
  const store = options.store ?? DEFAULTS.store;
  if (typeof store === "string" && !["sqlite", "memory", "redis", "postgres"].includes(store)) {
    throw new TypeError(
      `createSoloServer: options.store must be "sqlite", "memory", "redis", "postgres" or a SessionStore, got "${store}"`,
    );
  }
  if (typeof store === "object" && (store === null || typeof store.claim !== "function")) {
    throw new TypeError("createSoloServer: options.store must implement SessionStore");
  }
  const policy = options.policy ?? DEFAULTS.policy;
  if (typeof policy !== "function") assertPolicySpec(policy, "createSoloServer: options.policy");

  const idleTimeout = duration("idleTimeout", options.idleTimeout, DEFAULTS.idleTimeout, 1000);
  const resolved: ResolvedOptions = {
    authenticate: options.authenticate ?? null,
    store,
    dataDir: options.dataDir ?? DEFAULTS.dataDir,
    keysDir: options.dataDir !== undefined || store !== "memory" ? (options.dataDir ?? DEFAULTS.dataDir) : null,
    redis: redisOptions(options.redis),
    postgres: postgresOptions(options.postgres, options.redis?.url !== undefined),
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
    token: tokenSource(options.token),
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
    receivers: resolveReceivers(options.receivers),
    delivery: resolveDelivery(options.delivery),
    dispute: disputeOptions(options.dispute),
    onDispute: options.onDispute ?? null,
  };
  if (resolved.onDispute !== null && typeof resolved.onDispute !== "function") {
    throw new TypeError(
      "createSoloServer: options.onDispute must be a function ({ userId, disputed, by, ended, req })",
    );
  }
  if (resolved.dispute && typeof store === "object" && typeof store.useOnce !== "function") {
    throw new TypeError(
      "createSoloServer: options.store must implement useOnce (see SessionStore), or set dispute: false",
    );
  }
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

function disputeOptions(given: DisputeOptions | false | undefined): Required<DisputeOptions> | null {
  if (given === false) return null;
  if (given !== undefined && (typeof given !== "object" || given === null)) {
    throw new TypeError("createSoloServer: options.dispute must be false or { ttl?, ends? }");
  }
  const ttl = given?.ttl ?? DEFAULTS.dispute.ttl;
  if (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < 10_000 || ttl > 86_400_000) {
    throw new TypeError(
      `createSoloServer: options.dispute.ttl must be a number from 10_000 to 86_400_000 ms, got ${String(ttl)}`,
    );
  }
  const ends = given?.ends ?? DEFAULTS.dispute.ends;
  if (ends !== "all" && ends !== "taker") {
    throw new TypeError('createSoloServer: options.dispute.ends must be "all" or "taker"');
  }
  return { ttl, ends };
}

function redisOptions(given: RedisOptions = {}): ResolvedRedisOptions {
  if (typeof given !== "object" || given === null)
    throw new TypeError("createSoloServer: options.redis must be an object");
  const target = redisTarget(given, "createSoloServer: options.redis.", STORE_DEFAULTS.redis.url);
  const redis: ResolvedRedisOptions = {
    target,
    replicas: replicaAck(
      given.replicas,
      target,
      "createSoloServer: options.redis.replicas",
      STORE_DEFAULTS.redis.replicas,
    ),
    keyPrefix: given.keyPrefix ?? DEFAULTS.redis.keyPrefix,
    adapter: given.adapter ?? DEFAULTS.redis.adapter,
    reconcileInterval: DEFAULTS.redis.reconcileInterval,
  };
  if (typeof redis.keyPrefix !== "string" || !/^[\w.:-]{1,64}$/.test(redis.keyPrefix)) {
    throw new TypeError("createSoloServer: options.redis.keyPrefix must be 1-64 letters, digits, _ . : or -");
  }
  if (![true, false, "sharded", "classic"].includes(redis.adapter))
    throw new TypeError('createSoloServer: options.redis.adapter must be true, false, "sharded" or "classic"');
  redis.reconcileInterval = duration(
    "redis.reconcileInterval",
    given.reconcileInterval,
    DEFAULTS.redis.reconcileInterval,
    100,
  );
  return redis;
}

/**
 * The `postgres` options: the URL's scheme, names PostgreSQL can take as they are, a pool
 * that bounds its waits, the adapter (`true` picks Redis when `redis.url` is given).
 */
function postgresOptions(given: PostgresOptions | undefined, redisGiven: boolean): ResolvedPostgresOptions {
  // `adapter` defaults to true (pick), which resolves to DEFAULTS.postgres.adapter without Redis.
  const o = { ...DEFAULTS.postgres, ...given, adapter: given?.adapter ?? true };
  if (o.url !== null && (typeof o.url !== "string" || !/^postgres(ql)?:\/\//.test(o.url))) {
    throw new TypeError("createSoloServer: options.postgres.url must be a postgres:// or postgresql:// URL");
  }
  const problem = namingProblem(o.schema, o.tablePrefix);
  if (problem) {
    const name = problem.startsWith("tablePrefix") ? "tablePrefix" : "schema";
    throw new TypeError(`createSoloServer: options.postgres.${name}: ${problem}`);
  }
  if (![true, false, "postgres", "redis"].includes(o.adapter)) {
    throw new TypeError('createSoloServer: options.postgres.adapter must be true, false, "postgres" or "redis"');
  }
  return {
    url: o.url,
    pool: poolOptions(given?.pool),
    schema: o.schema,
    tablePrefix: o.tablePrefix,
    adapter: o.adapter === true ? (redisGiven ? "redis" : DEFAULTS.postgres.adapter) : o.adapter,
    reconcileInterval: duration(
      "postgres.reconcileInterval",
      given?.reconcileInterval,
      DEFAULTS.postgres.reconcileInterval,
      100,
    ),
    endsPollInterval: duration(
      "postgres.endsPollInterval",
      given?.endsPollInterval,
      DEFAULTS.postgres.endsPollInterval,
      10,
    ),
  };
}

/** A `pg.Pool` of the app's own as given (anything to connect and query on), or complete settings. */
function poolOptions(given: PostgresOptions["pool"]): ResolvedPostgresOptions["pool"] {
  if (given === undefined) return { ...DEFAULTS.postgres.pool };
  if (typeof given !== "object" || given === null) {
    throw new TypeError("createSoloServer: options.postgres.pool must be pool settings or a pg.Pool");
  }
  if ("connect" in given && typeof given.connect === "function") return given;
  const settings = given as PostgresPoolOptions;
  const max = duration("postgres.pool.max", settings.max, DEFAULTS.postgres.pool.max, 1);
  if (!Number.isInteger(max))
    throw new TypeError("createSoloServer: options.postgres.pool.max must be an integer >= 1");
  return {
    max,
    connectionTimeoutMillis: duration(
      "postgres.pool.connectionTimeoutMillis",
      settings.connectionTimeoutMillis,
      DEFAULTS.postgres.pool.connectionTimeoutMillis,
      1,
    ),
    idleTimeoutMillis: duration(
      "postgres.pool.idleTimeoutMillis",
      settings.idleTimeoutMillis,
      DEFAULTS.postgres.pool.idleTimeoutMillis,
      1,
    ),
  };
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

function tokenSource(given: TokenOptions | undefined): TokenSource {
  if (given === undefined) return DEFAULTS.token;
  if (typeof given !== "object" || given === null)
    throw new TypeError("createSoloServer: options.token must be an object");
  const schemes = given.schemes ?? DEFAULTS.token.schemes;
  if (
    !Array.isArray(schemes) ||
    schemes.length === 0 ||
    !schemes.every((s) => typeof s === "string" && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s))
  ) {
    throw new TypeError(
      'createSoloServer: options.token.schemes must be a non-empty array of scheme names like "Bearer"',
    );
  }
  const cookie = given.cookie ?? DEFAULTS.token.cookie;
  if (typeof cookie !== "boolean") throw new TypeError("createSoloServer: options.token.cookie must be true or false");
  if (given.read !== undefined && typeof given.read !== "function") {
    throw new TypeError("createSoloServer: options.token.read must be a function (req) => string | null");
  }
  return { schemes: [...schemes], cookie, read: given.read ?? null };
}
