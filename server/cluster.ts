import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Server } from "socket.io";
import { Adapter } from "socket.io-adapter";
import { quit, waitReady } from "./store/redis.js";

/** What the cluster wiring needs from the realtime side. */
export interface Reconcilable {
  /** Re-checks this node's sockets against the store; revokes the ended ones. Returns how many. */
  reconcile(): Promise<number>;
  /** Call after the namespace adapter was replaced. */
  refreshAdapter(): void;
}

/** Settings of {@link RedisCluster}. */
export interface RedisClusterOptions {
  /** The store's command connection: the adapter's connections copy its settings, and its reconnects trigger a reconcile. */
  client: Redis;
  /** Which Socket.IO Redis adapter to install: `true` picks by server version; false installs none. */
  adapter: boolean | "sharded" | "classic";
  /** Prefix of the adapter's pub/sub channels. */
  channelPrefix: string;
  /** How often every node re-checks its sockets against the store, in ms. */
  reconcileInterval: number;
  logger: Logger;
}

/** Which Socket.IO adapter a node runs. */
export type AdapterKind = "sharded" | "classic" | "none";

/** After a reconnect, a failed reconcile (Redis still loading, say) is retried this often, in ms. */
const RETRY_RECONCILE = 1000;
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

/**
 * Scale-out wiring for `store: "redis"`: the Socket.IO Redis adapter (the sharded one on
 * Redis 7+, the classic one before) so a revocation emitted on one node reaches the socket
 * held by another, and reconciliation, so a pub/sub message lost during an outage cannot
 * leave a zombie socket: each node re-checks its own sockets against the store after any
 * of its Redis connections comes back, and every `reconcileInterval` ms.
 *
 * @example
 * ```ts
 * const cluster = await RedisCluster.open({ client: store.client, adapter: true, channelPrefix: "solo:io",
 *   reconcileInterval: 30_000, logger });
 * cluster.install(io, realtime);
 * // ...
 * await cluster.close();
 * ```
 */
export class RedisCluster {
  readonly #options: RedisClusterOptions;
  readonly #pub: Redis | null;
  readonly #sub: Redis | null;
  readonly #kind: AdapterKind;
  #target: Reconcilable | null = null;
  #timer: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  readonly #cleanup: (() => void)[] = [];

  private constructor(options: RedisClusterOptions, pub: Redis | null, sub: Redis | null, kind: AdapterKind) {
    this.#options = options;
    this.#pub = pub;
    this.#sub = sub;
    this.#kind = kind;
  }

  /**
   * Opens the publisher and subscriber connections (when the adapter is on) and picks the
   * adapter from the server's version. Rejects with `store_unavailable` if Redis cannot be
   * reached in 10 s.
   */
  static async open(options: RedisClusterOptions): Promise<RedisCluster> {
    if (!options.adapter) return new RedisCluster(options, null, null, "none");
    const info = await options.client.info("server");
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    const log = (error: unknown) => options.logger.debug({ err: error }, "pub/sub command failed");
    // The publisher fails fast like the store: a notice published during an outage is lost,
    // and reconciliation catches it.
    const pub = guard(options.client.duplicate({ connectionName: `${options.channelPrefix}:pub` }), log);
    // The subscriber keeps an offline queue and no command timeout: a SUBSCRIBE issued during
    // an outage waits for the connection instead of being dropped, and ioredis resubscribes
    // everything on reconnect.
    const sub = guard(
      options.client.duplicate({
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
        autoResubscribe: true,
        connectionName: `${options.channelPrefix}:sub`,
      }),
      log,
    );
    try {
      await Promise.all([waitReady(pub, 10_000), waitReady(sub, 10_000)]);
    } catch (error) {
      pub.disconnect(false);
      sub.disconnect(false);
      throw error;
    }
    if (options.adapter === "sharded" && major < SHARDED_SINCE) {
      throw new TypeError(`solo-session: redis.adapter "sharded" needs Redis ${SHARDED_SINCE}+, this one is ${major}`);
    }
    const kind = options.adapter === true ? (major >= SHARDED_SINCE ? "sharded" : "classic") : options.adapter;
    return new RedisCluster(options, pub, sub, kind);
  }

  /** The adapter this node runs. */
  get adapterKind(): AdapterKind {
    return this.#kind;
  }

  /**
   * Installs the adapter on the Socket.IO server (unless it already has a cluster adapter of
   * the app's own) and starts reconciliation for `target`.
   */
  install(io: Server, target: Reconcilable): void {
    if (this.#target) throw new Error("solo-session: the cluster wiring is already installed");
    this.#target = target;
    const { client, channelPrefix, logger } = this.#options;
    const pub = this.#pub;
    const sub = this.#sub;
    if (pub && sub && io.adapter() === Adapter) {
      io.adapter(
        this.#kind === "sharded"
          ? // "static": two channels per namespace. Revocations travel as server-side emits on the
            // namespace channel; per-room channels would cost a SSUBSCRIBE per connected socket.
            createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode: "static" })
          : createAdapter(pub, sub, { key: channelPrefix }),
      );
      target.refreshAdapter();
    } else if (sub) {
      logger.info("the Socket.IO server already has an adapter: leaving it in place");
      target.refreshAdapter();
    }
    for (const [name, connection] of [
      ["store", client],
      ["publisher", pub],
      ["subscriber", sub],
    ] as const) {
      if (connection) this.#watch(name, connection);
    }
    this.#timer = setInterval(() => this.reconcile("timer"), this.#options.reconcileInterval);
    this.#timer.unref();
  }

  /**
   * Runs one reconciliation pass now (passes never overlap; a request during a pass runs one
   * more after it). Resolves when done; never rejects.
   */
  reconcile(why: "timer" | "reconnect" | "manual" = "manual"): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const target = this.#target;
    if (!target || this.#closed) return Promise.resolve();
    this.#running = (async () => {
      try {
        const revoked = await target.reconcile();
        if (revoked > 0 || why === "reconnect") this.#options.logger.info({ revoked, why }, "reconciled sockets");
      } catch (error) {
        this.#options.logger.warn({ err: error, why }, "reconcile failed");
        if (why === "reconnect") this.#scheduleRetry();
      } finally {
        this.#running = null;
      }
      if (this.#again) {
        this.#again = false;
        await this.reconcile(why);
      }
    })();
    return this.#running;
  }

  /** Stops timers and closes the pub/sub connections (the store closes its own). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    for (const undo of this.#cleanup.splice(0)) undo();
    await this.#running;
    await Promise.all([this.#pub, this.#sub].map((c) => (c ? quit(c) : undefined)));
  }

  /** Logs outages once and reconciles when a connection that was lost is ready again. */
  #watch(name: string, connection: Redis): void {
    let lost = false;
    const onClose = () => {
      if (lost || this.#closed) return;
      lost = true;
      this.#options.logger.warn({ connection: name }, "redis connection lost; logins answer 503 until it is back");
    };
    const onReady = () => {
      if (!lost || this.#closed) return;
      lost = false;
      this.#options.logger.info({ connection: name }, "redis connection restored");
      // On the subscriber, a PING answered means the resubscriptions ioredis just sent are in
      // place: anything published from now on arrives, and the pass below sees the rest.
      const settled = connection === this.#sub ? connection.ping().then(() => undefined) : Promise.resolve();
      settled.then(
        () => this.reconcile("reconnect"),
        () => this.#scheduleRetry(),
      );
    };
    connection.on("close", onClose);
    connection.on("ready", onReady);
    this.#cleanup.push(() => {
      connection.off("close", onClose);
      connection.off("ready", onReady);
    });
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.reconcile("reconnect");
    }, RETRY_RECONCILE);
    this.#retry.unref();
  }
}

/** Gives every floating pub/sub command a rejection handler, and connection errors a listener. */
function guard(client: Redis, onError: (error: unknown) => void): Redis {
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
