/**
 * The Socket.IO Redis adapter (the sharded one on Redis 7+, the classic one before): the
 * notices of ended sessions over pub/sub (the ends stream carries them too; a repeat is
 * harmless), and "one socket per session" across nodes. Its publisher and subscriber come from
 * the store's connection factory, so they reach the same deployment: on Redis Cluster the
 * sharded adapter's channels live on their slots' shards (the subscriber holds one sharded
 * subscriber per primary), the classic one's go over the cluster bus.
 *
 * @module
 */

import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type { Logger } from "pino";
import type { Server } from "socket.io";
import { Adapter } from "socket.io-adapter";
import { quit, type RedisClient, type RedisConnections, waitReady } from "../../store/redis/connection.js";

/** Oldest Redis with sharded pub/sub (SPUBLISH / SSUBSCRIBE). */
const SHARDED_SINCE = 7;
/**
 * Commands the adapters call without handling the returned promise. During an outage they
 * reject, and an unhandled rejection would end the process; each gets a handler here.
 */
const FLOATING = [
  "publish",
  "spublish",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
] as const;

/** The adapter's two connections, and which adapter they serve. */
export class AdapterLink {
  readonly pub: RedisClient;
  readonly sub: RedisClient;
  readonly kind: "sharded" | "classic";
  readonly #channelPrefix: string;

  private constructor(pub: RedisClient, sub: RedisClient, kind: "sharded" | "classic", channelPrefix: string) {
    this.pub = pub;
    this.sub = sub;
    this.kind = kind;
    this.#channelPrefix = channelPrefix;
  }

  /**
   * Opens the publisher and the subscriber and picks the adapter from the server's version
   * (`true`: sharded on Redis 7+, else classic). Throws a TypeError for `"sharded"` on an older
   * Redis; rejects with `store_unavailable` if Redis cannot be reached in 10 s.
   */
  static async open(
    client: RedisClient,
    connections: RedisConnections,
    adapter: true | "sharded" | "classic",
    channelPrefix: string,
    logger: Logger,
  ): Promise<AdapterLink> {
    let pub: RedisClient | null = null;
    let sub: RedisClient | null = null;
    try {
      const info = await client.info("server");
      const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
      if (adapter === "sharded" && major < SHARDED_SINCE) {
        throw new TypeError(
          `solo-session: redis.adapter "sharded" needs Redis ${SHARDED_SINCE}+, this one is ${major}`,
        );
      }
      // A failed publish is a notice this path lost (the ends stream still carries it): worth a warning.
      const onPubError = (error: unknown) =>
        logger.warn({ err: error }, "publish failed; the ends stream carries the notice");
      const onSubError = (error: unknown) => logger.debug({ err: error }, "pub/sub command failed");
      // The publisher fails fast like the store: a notice published during an outage is lost
      // on this path, and the ends stream (or, past it, reconciliation) carries it.
      pub = guard(connections.open("pub"), onPubError);
      // The subscriber keeps an offline queue and no command timeout: a SUBSCRIBE issued during
      // an outage waits for the connection instead of being dropped, and ioredis resubscribes
      // everything on reconnect (on a cluster, on the slot's new primary after a failover).
      sub = guard(connections.open("sub"), onSubError);
      await Promise.all([waitReady(pub, 10_000), waitReady(sub, 10_000)]);
      const kind = adapter === true ? (major >= SHARDED_SINCE ? "sharded" : "classic") : adapter;
      return new AdapterLink(pub, sub, kind, channelPrefix);
    } catch (error) {
      for (const connection of [pub, sub]) connection?.disconnect(false);
      throw error;
    }
  }

  /**
   * Installs the adapter on the Socket.IO server, unless it already has a cluster adapter of
   * the app's own (then that one stays). Either way `refreshAdapter` is called after.
   */
  install(io: Server, refreshAdapter: () => void, logger: Logger): void {
    if (io.adapter() === Adapter) {
      io.adapter(
        this.kind === "sharded"
          ? // "static": two channels per namespace. Revocations travel as server-side emits on the
            // namespace channel; per-room channels would cost a SSUBSCRIBE per connected socket.
            createShardedAdapter(this.pub, this.sub, { channelPrefix: this.#channelPrefix, subscriptionMode: "static" })
          : createAdapter(this.pub, this.sub, { key: this.#channelPrefix }),
      );
    } else {
      logger.info("the Socket.IO server already has an adapter: leaving it in place");
    }
    refreshAdapter();
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    await Promise.all([quit(this.pub), quit(this.sub)]);
  }
}

/** Gives every floating pub/sub command a rejection handler, and connection errors a listener. */
function guard(client: RedisClient, onError: (error: unknown) => void): RedisClient {
  client.on("error", () => {});
  const methods = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of FLOATING) {
    const original = methods[name]?.bind(client);
    if (!original) continue;
    methods[name] = (...args: unknown[]) => {
      const result = original(...args);
      if (result instanceof Promise) result.catch(onError);
      return result;
    };
  }
  return client;
}
