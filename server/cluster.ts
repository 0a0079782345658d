import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Server } from "socket.io";
import { Adapter } from "socket.io-adapter";
import type { RevocationNotice } from "./protocol.js";
import { parseEndEntry, quit, waitReady } from "./store/redis.js";
import { revocationNotice } from "./views.js";

/** What the cluster wiring needs from the realtime side. */
export interface Reconcilable {
  /** Re-checks this node's sockets against the store; revokes the ended ones. Returns how many. */
  reconcile(): Promise<number>;
  /** Call after the namespace adapter was replaced. */
  refreshAdapter(): void;
  /** Applies a revocation made anywhere in the cluster (this node's own included: a repeat is harmless). */
  revokeHeard(notice: RevocationNotice): void;
}

/** Settings of {@link RedisCluster}. */
export interface RedisClusterOptions {
  /** The store's command connection: the other connections copy its settings, and its reconnects trigger a reconcile. */
  client: Redis;
  /** The store's ends stream (`RedisStore.endsKey`): every end, appended by the commit that made it. */
  endsKey: string;
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
/** The ends reader waits this long for new entries per XREAD (ms); an answer is due this much plus the command timeout later. */
const READ_BLOCK = 5000;
/** Entries read per XREAD; a full batch means this node is behind, and it checks that it lost none. */
const READ_COUNT = 500;
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
 * Scale-out wiring for `store: "redis"`:
 *
 * - the ends reader: every node follows the store's ends stream (`XREAD BLOCK` from the last
 *   id it read, on a connection of its own) and tells its sockets of every session that ended
 *   anywhere. The stream is written by the commit itself, so a notice survives a lost publish
 *   and the ending node dying right after its commit; after a reconnect the reader resumes
 *   from its last id, so nothing written meanwhile is missed (within the stream's length cap);
 * - the Socket.IO Redis adapter (the sharded one on Redis 7+, the classic one before): the
 *   same notices over pub/sub (a repeat is harmless), and "one socket per session" across nodes;
 * - reconciliation, the backstop for whatever the two miss (a reader further behind than the
 *   stream's cap, an end written by something else): each node re-checks its own sockets
 *   against the store after any of its Redis connections comes back, and every
 *   `reconcileInterval` ms.
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
  readonly #reader: Redis;
  readonly #kind: AdapterKind;
  /** Id of the last ends-stream entry read. */
  #lastId: string;
  #following: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #target: Reconcilable | null = null;
  #timer: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  readonly #cleanup: (() => void)[] = [];

  private constructor(
    options: RedisClusterOptions,
    connections: { pub: Redis | null; sub: Redis | null; reader: Redis },
    kind: AdapterKind,
    lastId: string,
  ) {
    this.#options = options;
    this.#pub = connections.pub;
    this.#sub = connections.sub;
    this.#reader = connections.reader;
    this.#kind = kind;
    this.#lastId = lastId;
  }

  /**
   * Opens the ends reader and, when the adapter is on, the publisher and subscriber
   * connections, and picks the adapter from the server's version. Rejects with
   * `store_unavailable` if Redis cannot be reached in 10 s.
   */
  static async open(options: RedisClusterOptions): Promise<RedisCluster> {
    const { client, channelPrefix, logger } = options;
    const reader = client.duplicate({
      connectionName: `${channelPrefix}:ends`,
      commandTimeout: READ_BLOCK + (client.options.commandTimeout ?? 0),
    });
    reader.on("error", () => {});
    let pub: Redis | null = null;
    let sub: Redis | null = null;
    try {
      await waitReady(reader, 10_000);
      // Start after the newest entry: this node has no sockets yet, nothing older concerns it.
      const newest = await reader.xrevrange(options.endsKey, "+", "-", "COUNT", 1);
      const lastId = newest[0]?.[0] ?? "0-0";
      if (!options.adapter) return new RedisCluster(options, { pub, sub, reader }, "none", lastId);
      const info = await client.info("server");
      const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
      if (options.adapter === "sharded" && major < SHARDED_SINCE) {
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
      pub = guard(client.duplicate({ connectionName: `${channelPrefix}:pub` }), onPubError);
      // The subscriber keeps an offline queue and no command timeout: a SUBSCRIBE issued during
      // an outage waits for the connection instead of being dropped, and ioredis resubscribes
      // everything on reconnect.
      sub = guard(
        client.duplicate({
          enableOfflineQueue: true,
          maxRetriesPerRequest: null,
          commandTimeout: undefined,
          autoResubscribe: true,
          connectionName: `${channelPrefix}:sub`,
        }),
        onSubError,
      );
      await Promise.all([waitReady(pub, 10_000), waitReady(sub, 10_000)]);
      const kind = options.adapter === true ? (major >= SHARDED_SINCE ? "sharded" : "classic") : options.adapter;
      return new RedisCluster(options, { pub, sub, reader }, kind, lastId);
    } catch (error) {
      for (const connection of [reader, pub, sub]) connection?.disconnect(false);
      throw error;
    }
  }

  /** The adapter this node runs. */
  get adapterKind(): AdapterKind {
    return this.#kind;
  }

  /**
   * True when every Redis connection this node needs is ready: the store's, the ends reader
   * and, with the adapter, the publisher and the subscriber (`solo_redis_up`).
   */
  get up(): boolean {
    return this.#connections().every(([, connection]) => connection.status === "ready");
  }

  /**
   * Installs the adapter on the Socket.IO server (unless it already has a cluster adapter of
   * the app's own), starts following the ends stream and starts reconciliation for `target`.
   */
  install(io: Server, target: Reconcilable): void {
    if (this.#target) throw new Error("solo-session: the cluster wiring is already installed");
    this.#target = target;
    const { channelPrefix, logger } = this.#options;
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
    for (const [name, connection] of this.#connections()) this.#watch(name, connection);
    this.#following = this.#follow(target);
    this.#timer = setInterval(() => this.reconcile("timer"), this.#options.reconcileInterval);
    this.#timer.unref();
  }

  /**
   * Runs one reconciliation pass now (passes never overlap; a request during a pass runs one
   * more after it). Resolves when done; never rejects.
   */
  reconcile(why: "timer" | "reconnect" | "behind" | "manual" = "manual"): Promise<void> {
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

  /** Stops timers and closes the reader and pub/sub connections (the store closes its own). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    for (const undo of this.#cleanup.splice(0)) undo();
    this.#wake?.();
    // A blocked XREAD would hold a polite QUIT for up to READ_BLOCK: the reader is cut at once.
    this.#reader.disconnect(false);
    await this.#running;
    await this.#following;
    await Promise.all([this.#pub, this.#sub].map((c) => (c ? quit(c) : undefined)));
  }

  /** The connections this node needs, by name; the store's first. */
  #connections(): [string, Redis][] {
    const all: [string, Redis | null][] = [
      ["store", this.#options.client],
      ["publisher", this.#pub],
      ["subscriber", this.#sub],
      ["ends reader", this.#reader],
    ];
    return all.filter((entry): entry is [string, Redis] => entry[1] !== null);
  }

  /**
   * Follows the ends stream until closed: each entry tells this node's sockets of a session
   * that ended. Resumes from the last id after any failure or reconnect.
   */
  async #follow(target: Reconcilable): Promise<void> {
    const reader = this.#reader;
    const { endsKey, logger } = this.#options;
    while (!this.#closed) {
      if (reader.status !== "ready") {
        await this.#pause(reader);
        continue;
      }
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader.xread("COUNT", READ_COUNT, "BLOCK", READ_BLOCK, "STREAMS", endsKey, this.#lastId)) as
          | [string, [string, string[]][]][]
          | null;
      } catch (error) {
        if (this.#closed) return;
        if (reader.status === "ready") {
          // No answer in time on a connection that looks fine (a dead peer?), or an error reply:
          // start over on a fresh connection rather than spin.
          logger.warn({ err: error }, "ends stream read failed; reconnecting the reader");
          reader.disconnect(true);
        }
        await this.#pause(reader);
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) {
        this.#lastId = id;
        const entry = parseEndEntry(id, fields);
        if (!entry) continue;
        try {
          target.revokeHeard(revocationNotice({ id: entry.sessionId, ended: entry.ended }));
        } catch (error) {
          logger.error({ err: error }, "applying an ended session failed");
        }
      }
      if (entries.length >= READ_COUNT) await this.#checkBehind();
    }
  }

  /**
   * After a full batch: if the oldest entry left in the stream is newer than the last one
   * read, the cap trimmed entries this node never read, and a reconcile pass finds their
   * sockets instead.
   */
  async #checkBehind(): Promise<void> {
    try {
      const oldest = await this.#reader.xrange(this.#options.endsKey, "-", "+", "COUNT", 1);
      const first = oldest[0]?.[0];
      if (first !== undefined && compareIds(first, this.#lastId) > 0) {
        this.#options.logger.warn("fell behind the ends stream; reconciling");
        void this.reconcile("behind");
      }
    } catch {
      // The next read fails the same way and is handled there.
    }
  }

  /** Waits until the connection is ready again (or a second, or close). */
  #pause(connection: Redis): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        connection.off("ready", done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, RETRY_RECONCILE);
      connection.once("ready", done);
      this.#wake = done;
    });
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

/** Orders two stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
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
