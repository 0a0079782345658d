/**
 * Scale-out wiring for `store: "redis"`: the ends reader (`ends-reader.ts`), the Socket.IO
 * Redis adapter (`adapter.ts`) and reconciliation (`reconciler.ts`), put together for one node.
 *
 * It lives with the realtime side, not in `store/redis/`: all it does is tell this node's
 * sockets (it needs Socket.IO, the adapter and the channel's revocation notice), and it only
 * reads what the store writes, through the store's codec and connection helpers. The store
 * stays free of Socket.IO; this depends on the store, never the reverse.
 *
 * @module
 */

import type { Logger } from "pino";
import type { Server } from "socket.io";
import { revocationNotice } from "../../sessions/views.js";
import { isUp, type RedisClient, type RedisConnections } from "../../store/redis/connection.js";
import type { Reconcilable } from "../types.js";
import { AdapterLink } from "./adapter.js";
import { EndsReader } from "./ends-reader.js";
import { type ReconcileReason, Reconciler } from "./reconciler.js";

/** What the cluster wiring needs from the realtime side (defined with the realtime types, shared by every scale-out). */
export type { Reconcilable } from "../types.js";

/** Settings of {@link RedisScaleOut}. */
export interface RedisScaleOutOptions {
  /** The store's command connection: its reconnects trigger a reconcile. */
  client: RedisClient;
  /** The store's connection factory: the reader, the publisher and the subscriber reach the same deployment. */
  connections: RedisConnections;
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

/**
 * Scale-out wiring for `store: "redis"` (one Redis server, a Redis Cluster, or Sentinel):
 *
 * - the ends reader: every node follows the store's ends stream and tells its sockets of
 *   every session that ended anywhere, even if the ending node's publish was lost or it died
 *   right after its commit;
 * - the Socket.IO Redis adapter: the same notices over pub/sub, and "one socket per session"
 *   across nodes;
 * - reconciliation, the backstop for whatever the two miss: each node re-checks its own
 *   sockets against the store after any of its Redis connections comes back, when its reader
 *   fell behind the stream's cap, and every `reconcileInterval` ms.
 *
 * @example
 * ```ts
 * const scaleOut = await RedisScaleOut.open({ client: store.client, connections: store.connections,
 *   endsKey: store.endsKey, adapter: true, channelPrefix: "solo:io", reconcileInterval: 30_000, logger });
 * scaleOut.install(io, realtime);
 * // ...
 * await scaleOut.close();
 * ```
 */
export class RedisScaleOut {
  readonly #options: RedisScaleOutOptions;
  readonly #reader: EndsReader;
  readonly #adapter: AdapterLink | null;
  #reconciler: Reconciler | null = null;
  #closed = false;

  private constructor(options: RedisScaleOutOptions, reader: EndsReader, adapter: AdapterLink | null) {
    this.#options = options;
    this.#reader = reader;
    this.#adapter = adapter;
  }

  /**
   * Opens the ends reader and, when the adapter is on, the publisher and subscriber
   * connections, and picks the adapter from the server's version. Rejects with
   * `store_unavailable` if Redis cannot be reached in 10 s.
   */
  static async open(options: RedisScaleOutOptions): Promise<RedisScaleOut> {
    const { client, connections, adapter, channelPrefix, logger } = options;
    const reader = await EndsReader.open(connections, options.endsKey);
    try {
      const link = adapter ? await AdapterLink.open(client, connections, adapter, channelPrefix, logger) : null;
      return new RedisScaleOut(options, reader, link);
    } catch (error) {
      reader.connection.disconnect(false);
      throw error;
    }
  }

  /**
   * True when every Redis connection this node needs is ready: the store's, the ends reader
   * and, with the adapter, the publisher and the subscriber; on a cluster, to every slot's
   * primary (`solo_redis_up`).
   */
  get up(): boolean {
    return this.#connections().every(([, connection]) => isUp(connection));
  }

  /**
   * Installs the adapter on the Socket.IO server (unless it already has a cluster adapter of
   * the app's own), starts following the ends stream and starts reconciliation for `target`.
   */
  install(io: Server, target: Reconcilable): void {
    if (this.#reconciler) throw new Error("solo-session: the Redis scale-out is already installed");
    const { logger, reconcileInterval } = this.#options;
    const reconciler = new Reconciler(() => target.reconcile(), logger);
    this.#reconciler = reconciler;
    this.#adapter?.install(io, () => target.refreshAdapter(), logger);
    for (const [name, connection] of this.#connections()) {
      reconciler.watch(name, connection, connection === this.#adapter?.sub);
    }
    this.#reader.start(
      {
        ended: (entry) => target.revokeHeard(revocationNotice({ id: entry.sessionId, ended: entry.ended })),
        behind: (why) => {
          if (why === "trimmed") logger.warn("fell behind the ends stream; reconciling");
          void reconciler.reconcile(why === "trimmed" ? "behind" : "reconnect");
        },
      },
      logger,
    );
    reconciler.every(reconcileInterval);
  }

  /**
   * Runs one reconciliation pass now (passes never overlap; a request during a pass runs one
   * more after it). Resolves when done; never rejects.
   */
  reconcile(why: ReconcileReason = "manual"): Promise<void> {
    if (this.#closed || !this.#reconciler) return Promise.resolve();
    return this.#reconciler.reconcile(why);
  }

  /** Stops timers and closes the reader and pub/sub connections (the store closes its own). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const reconciled = this.#reconciler?.close();
    const read = this.#reader.close();
    await reconciled;
    await read;
    await this.#adapter?.close();
  }

  /** The connections this node needs, by name; the store's first. */
  #connections(): [string, RedisClient][] {
    const all: [string, RedisClient | null][] = [
      ["store", this.#options.client],
      ["publisher", this.#adapter?.pub ?? null],
      ["subscriber", this.#adapter?.sub ?? null],
      ["ends reader", this.#reader.connection],
    ];
    return all.filter((entry): entry is [string, RedisClient] => entry[1] !== null);
  }
}
