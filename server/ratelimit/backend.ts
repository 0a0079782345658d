import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { SoloError } from "../errors/solo-error.js";
import type { RateLimit, ResolvedRateLimits } from "./limits.js";

/** Where the counters live. */
export type LimiterBackend = { kind: "memory" } | { kind: "redis"; client: Redis | Cluster; prefix: string };

/**
 * Chooses where the login counters live: the `rateLimit.redis` client when given; else, when
 * the store is on Redis (`redis.open` opens a connection to its deployment: one server, a
 * cluster or through the sentinels) and a login limit is on, a connection of its own; else
 * memory. Keys are prefixed with `redis.keyPrefix`. `close()` disconnects a client it opened
 * itself.
 *
 * @example
 * ```ts
 * const { backend, close } = openLimiterBackend(limits, { keyPrefix: "solo", open: () => store.connections.open("ratelimit") }, logger);
 * ```
 */
export function openLimiterBackend(
  limits: ResolvedRateLimits,
  redis: { keyPrefix: string; open: (() => Redis | Cluster) | null },
  logger: Pick<Logger, "warn">,
): { backend: LimiterBackend; close(): void } {
  const prefix = redis.keyPrefix;
  if (limits.redis) return { backend: { kind: "redis", client: limits.redis, prefix }, close: () => {} };
  const loginLimits =
    limits.loginPerIp !== false ||
    limits.loginPerUser !== false ||
    limits.successPerUser !== false ||
    limits.successPerIp !== false ||
    limits.disputePerUser !== false;
  if (!redis.open || !loginLimits) return { backend: { kind: "memory" }, close: () => {} };
  const client = redis.open();
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

/** Throws `rate_limited` (with the longest wait) when any consumption was refused; rethrows store errors. */
export function refuseIfLimited(results: PromiseSettledResult<unknown>[]): void {
  let wait = -1;
  for (const result of results) {
    if (result.status === "fulfilled") continue;
    if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
    wait = Math.max(wait, result.reason.msBeforeNext);
  }
  if (wait >= 0) throw new SoloError("rate_limited", { retryAfter: retryAfterSeconds(wait) });
}

export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
