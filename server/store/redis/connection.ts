/**
 * The Redis connections' settings and life cycle, shared by the store and the scale-out
 * wiring (which opens its connections as copies of the store's).
 *
 * @module
 */

import type { Redis } from "ioredis";
import { SoloError } from "../../errors/solo-error.js";

/**
 * ioredis settings shared by every connection solo-session opens: fail fast, reconnect forever.
 *
 * @example
 * ```ts
 * const client = new Redis(url, { ...clientOptions(2000), connectionName: "solo:store" });
 * ```
 */
export function clientOptions(commandTimeout: number) {
  return {
    // A command while disconnected fails at once instead of waiting in a queue...
    enableOfflineQueue: false,
    // ...and a command in flight when the connection drops fails instead of being resent
    // (resending a claim whose answer was lost could apply it twice).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    lazyConnect: false,
  };
}

/**
 * Resolves when the client is ready; rejects with `store_unavailable` after `timeout` ms.
 *
 * @example
 * ```ts
 * await waitReady(client, 10_000);
 * ```
 */
export function waitReady(client: Redis, timeout: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new SoloError("store_unavailable", {}, `Redis is not reachable (waited ${timeout} ms).`));
    }, timeout);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}

/**
 * Closes a client politely if connected, at once otherwise.
 *
 * @example
 * ```ts
 * await quit(client);
 * ```
 */
export async function quit(client: Redis): Promise<void> {
  if (client.status === "ready") {
    try {
      await client.quit();
      return;
    } catch {
      // fall through
    }
  }
  client.disconnect(false);
}

/** Runs a pipeline or transaction; throws the first command error. */
export async function execPipeline(pipeline: ReturnType<Redis["pipeline"]>): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error("RedisStore: transaction aborted");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
