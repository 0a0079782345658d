import type { Transport } from "../protocol/index.js";
import type { DeliveryOptions, ReceiverOption } from "../server/events/receivers.js";
import { DEFAULTS } from "../server/options/defaults.js";
import { parseDuration } from "../server/options/parse-duration.js";
import type { SoloServerOptions } from "../server/options/types.js";
import { normalizeOrigin } from "../server/request/origin.js";
import { parsePolicy } from "../server/sessions/policy.js";
import { parseRedisNodes } from "../server/store/redis/connection.js";

/** The standalone server's settings, from the environment. */
export interface StandaloneConfig {
  port: number;
  host: string;
  options: Omit<SoloServerOptions, "authenticate">;
  logLevel: string;
}

const STORES = ["sqlite", "memory", "redis", "postgres"] as const;

/**
 * Reads `PORT`, `HOST`, `SOLO_STORE`, `SOLO_DATA_DIR`, `REDIS_URL` (or `REDIS_CLUSTER_NODES`, or
 * `REDIS_SENTINELS` with `REDIS_SENTINEL_NAME`; `REDIS_REPLICAS_WAIT`, `REDIS_REPLICAS_TIMEOUT`), `DATABASE_URL`, `SOLO_PG_SCHEMA`, `SOLO_POLICY`,
 * `SOLO_ALLOWED_ORIGINS`, `SOLO_IDLE_TIMEOUT`, `SOLO_TOUCH_INTERVAL`, `SOLO_MAX_AGE`, `SOLO_ABANDON_GRACE`,
 * `SOLO_SIGNING_KEYS`, `SOLO_AUDIT_RETENTION`, `SOLO_INTROSPECT_SECRET`, `SOLO_PUBLIC_ORIGIN`,
 * `SOLO_TRANSPORTS`, `SOLO_RECEIVERS` (a JSON array of receivers), `SOLO_DELIVERY` (a JSON object
 * of delivery settings), `LOG_LEVEL`. Throws a TypeError naming the variable that is wrong.
 *
 * @example
 * ```ts
 * readEnv({ PORT: "8080", SOLO_TRANSPORTS: "websocket,polling" }).options.transports; // ["websocket", "polling"]
 * ```
 */
export function readEnv(env: NodeJS.ProcessEnv): StandaloneConfig {
  const port = env.PORT === undefined || env.PORT === "" ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`PORT must be a port number, got "${env.PORT}"`);
  const store = (env.SOLO_STORE || "sqlite") as (typeof STORES)[number];
  if (!STORES.includes(store))
    throw new TypeError(`SOLO_STORE must be one of ${STORES.join(", ")}, got "${env.SOLO_STORE}"`);
  const options: Omit<SoloServerOptions, "authenticate"> = {
    store,
    dataDir: env.SOLO_DATA_DIR || "./data",
  };
  const redis = readRedisEnv(env);
  if (redis) options.redis = redis;
  if (env.DATABASE_URL || env.SOLO_PG_SCHEMA) {
    options.postgres = {
      ...(env.DATABASE_URL ? { url: env.DATABASE_URL } : {}),
      ...(env.SOLO_PG_SCHEMA ? { schema: env.SOLO_PG_SCHEMA } : {}),
    };
  }
  if (env.SOLO_POLICY) options.policy = parsePolicy(env.SOLO_POLICY);
  if (env.SOLO_ALLOWED_ORIGINS) {
    options.allowedOrigins = env.SOLO_ALLOWED_ORIGINS.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (env.SOLO_IDLE_TIMEOUT) options.idleTimeout = parseDuration(env.SOLO_IDLE_TIMEOUT, "SOLO_IDLE_TIMEOUT");
  if (env.SOLO_TOUCH_INTERVAL) {
    options.touchInterval = parseDuration(env.SOLO_TOUCH_INTERVAL, "SOLO_TOUCH_INTERVAL");
    if (options.touchInterval >= (options.idleTimeout ?? DEFAULTS.idleTimeout))
      throw new TypeError("SOLO_TOUCH_INTERVAL must be shorter than SOLO_IDLE_TIMEOUT");
  }
  if (env.SOLO_MAX_AGE) options.maxAge = parseDuration(env.SOLO_MAX_AGE, "SOLO_MAX_AGE");
  if (env.SOLO_ABANDON_GRACE) options.abandonGrace = parseDuration(env.SOLO_ABANDON_GRACE, "SOLO_ABANDON_GRACE");
  if (env.SOLO_SIGNING_KEYS) options.signingKeys = env.SOLO_SIGNING_KEYS;
  if (env.SOLO_AUDIT_RETENTION)
    options.auditRetention = parseDuration(env.SOLO_AUDIT_RETENTION, "SOLO_AUDIT_RETENTION");
  if (env.SOLO_INTROSPECT_SECRET) {
    if (env.SOLO_INTROSPECT_SECRET.length < 16)
      throw new TypeError("SOLO_INTROSPECT_SECRET must be at least 16 characters");
    options.introspectSecret = env.SOLO_INTROSPECT_SECRET;
  }
  if (env.SOLO_PUBLIC_ORIGIN) {
    const origin = normalizeOrigin(env.SOLO_PUBLIC_ORIGIN.trim());
    if (origin === null)
      throw new TypeError(
        `SOLO_PUBLIC_ORIGIN must be an origin like https://app.example.com, got "${env.SOLO_PUBLIC_ORIGIN}"`,
      );
    options.publicOrigin = origin;
  }
  if (env.SOLO_TRANSPORTS) {
    const list = env.SOLO_TRANSPORTS.split(",").map((s) => s.trim());
    if (!list.every((t): t is Transport => t === "websocket" || t === "polling"))
      throw new TypeError(
        `SOLO_TRANSPORTS must be websocket, polling or websocket,polling, got "${env.SOLO_TRANSPORTS}"`,
      );
    options.transports = list;
  }
  if (env.SOLO_RECEIVERS) {
    const receivers = json(env.SOLO_RECEIVERS);
    if (!Array.isArray(receivers)) {
      throw new TypeError(
        'SOLO_RECEIVERS must be a JSON array, e.g. [{"url":"https://...","audience":"...","format":"caep"}]',
      );
    }
    options.receivers = receivers as ReceiverOption[]; // each one is checked by createSoloServer
  }
  if (env.SOLO_DELIVERY) {
    const delivery = json(env.SOLO_DELIVERY);
    if (typeof delivery !== "object" || delivery === null || Array.isArray(delivery)) {
      throw new TypeError('SOLO_DELIVERY must be a JSON object, e.g. {"timeout":5000,"maxAttempts":12}');
    }
    options.delivery = delivery as DeliveryOptions; // checked by createSoloServer
  }
  if (env.SOLO_TRUST_PROXY) options.trustProxy = env.SOLO_TRUST_PROXY === "1" || env.SOLO_TRUST_PROXY === "true";
  return { port, host: env.HOST || "localhost", options, logLevel: env.LOG_LEVEL || "info" };
}

/** Parsed JSON, or undefined when it is not JSON. */
function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The Redis deployment from `REDIS_URL`, `REDIS_CLUSTER_NODES` (`host:port,host:port`) or
 * `REDIS_SENTINELS` (`host:port,...`) with `REDIS_SENTINEL_NAME`, and what writes wait for
 * (`REDIS_REPLICAS_WAIT`, `REDIS_REPLICAS_TIMEOUT`); undefined when none is set. The options'
 * own validation runs at `createSoloServer`.
 */
function readRedisEnv(env: NodeJS.ProcessEnv): SoloServerOptions["redis"] {
  const redis: NonNullable<SoloServerOptions["redis"]> = {};
  const given = ["REDIS_URL", "REDIS_CLUSTER_NODES", "REDIS_SENTINELS"].filter((name) => env[name]);
  if (given.length > 1) throw new TypeError(`${given.join(" and ")}: set only one of them`);
  if (env.REDIS_URL) redis.url = env.REDIS_URL;
  if (env.REDIS_CLUSTER_NODES) redis.cluster = parseRedisNodes(env.REDIS_CLUSTER_NODES, "REDIS_CLUSTER_NODES");
  if (env.REDIS_SENTINELS) {
    redis.sentinels = parseRedisNodes(env.REDIS_SENTINELS, "REDIS_SENTINELS");
    if (!env.REDIS_SENTINEL_NAME) throw new TypeError("REDIS_SENTINELS needs REDIS_SENTINEL_NAME (the primary's name)");
    redis.name = env.REDIS_SENTINEL_NAME;
  } else if (env.REDIS_SENTINEL_NAME) {
    throw new TypeError("REDIS_SENTINEL_NAME is only for REDIS_SENTINELS");
  }
  if (env.REDIS_REPLICAS_WAIT || env.REDIS_REPLICAS_TIMEOUT) {
    const wait = Number(env.REDIS_REPLICAS_WAIT ?? "1");
    if (!Number.isInteger(wait) || wait < 0 || wait > 16)
      throw new TypeError(`REDIS_REPLICAS_WAIT must be 0..16, got "${env.REDIS_REPLICAS_WAIT}"`);
    redis.replicas = env.REDIS_REPLICAS_TIMEOUT
      ? { wait, timeout: parseDuration(env.REDIS_REPLICAS_TIMEOUT, "REDIS_REPLICAS_TIMEOUT") }
      : { wait };
  }
  return Object.keys(redis).length > 0 ? redis : undefined;
}
