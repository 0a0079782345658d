/**
 * The scale-out a store needs, opened once per node by the composition root: the Redis wiring
 * (`redis/`) for a Redis store, the PostgreSQL wiring (`postgres/`) for a PostgreSQL store (with
 * the Socket.IO adapter of either backend), nothing for stores with nothing to share (memory,
 * SQLite; an app's own store brings its own). {@link ScaleOut} opens it in the background, so
 * that a server is created synchronously.
 *
 * @module
 */

import type { Logger } from "pino";
import type { Server } from "socket.io";
import type { ResolvedOptions } from "../options/types.js";
import { STORE_DEFAULTS } from "../store/defaults.js";
import { PostgresStore } from "../store/postgres/store.js";
import { isUp, RedisConnections, waitReady } from "../store/redis/connection.js";
import { RedisStore } from "../store/redis/store.js";
import type { SessionStore } from "../store/types.js";
import { PgAdapterLink } from "./postgres/adapter.js";
import { type ClusterAdapter, PostgresCluster } from "./postgres/scale-out.js";
import { AdapterLink } from "./redis/adapter.js";
import type { ReconcileReason } from "./redis/reconciler.js";
import { RedisScaleOut } from "./redis/scale-out.js";
import type { Reconcilable, SoloIo } from "./types.js";

/** One node's scale-out, whatever the backend, once open. */
export interface NodeScaleOut {
  /** The backend: names its health series (`solo_redis_up`, `solo_postgres_up`). */
  readonly backend: "redis" | "postgres";
  /** True when every connection this node needs to hear every end is up. */
  readonly up: boolean;
  /** Installs the adapter and starts following ends and reconciling for `target`. */
  install(io: Server, target: Reconcilable): void;
  /** Runs one reconciliation pass now; never rejects. */
  reconcile(why?: ReconcileReason): Promise<void>;
  /** Stops everything it opened (the store closes its own connections). */
  close(): Promise<void>;
}

/**
 * The scale-out the store needs: a {@link RedisScaleOut} on a Redis store's deployment, a
 * {@link PostgresCluster} on a PostgreSQL store's database (with the adapter
 * `postgres.adapter` names), null for stores with nothing to share.
 *
 * @example
 * ```ts
 * const scaleOut = await openScaleOut(store, options, logger);
 * if (scaleOut) scaleOut.install(io, realtime);
 * ```
 */
export async function openScaleOut(
  store: SessionStore,
  options: Pick<ResolvedOptions, "redis" | "postgres" | "nodeId">,
  logger: Logger,
): Promise<NodeScaleOut | null> {
  if (store instanceof RedisStore) {
    const { redis } = options;
    const cluster = await RedisScaleOut.open({
      client: store.client,
      connections: store.connections,
      endsKey: store.endsKey,
      adapter: redis.adapter,
      channelPrefix: `${redis.keyPrefix}:io`,
      reconcileInterval: redis.reconcileInterval,
      logger,
    });
    return Object.assign(cluster, { backend: "redis" as const });
  }
  if (store instanceof PostgresStore) {
    const { postgres } = options;
    const adapter = await openAdapter(store, options, logger);
    try {
      const cluster = await PostgresCluster.open({
        store,
        adapter,
        reconcileInterval: postgres.reconcileInterval,
        endsPollInterval: postgres.endsPollInterval,
        nodeId: options.nodeId,
        logger,
      });
      return Object.assign(cluster, { backend: "postgres" as const });
    } catch (error) {
      await adapter?.close();
      throw error;
    }
  }
  return null;
}

/** The adapter of a PostgreSQL store's nodes: PostgreSQL's own, Redis's (when Redis is configured too), or none. */
async function openAdapter(
  store: PostgresStore,
  options: Pick<ResolvedOptions, "redis" | "postgres" | "nodeId">,
  logger: Logger,
): Promise<ClusterAdapter | null> {
  const { postgres, redis, nodeId } = options;
  if (postgres.adapter === "postgres") {
    return PgAdapterLink.open(store.connectionConfig(), store.names, `solo-session io ${nodeId}`, logger);
  }
  if (postgres.adapter !== "redis") return null;
  // The adapter's publisher and subscriber reach the Redis deployment of the options; a
  // template connection only asks the server's version.
  const connections = new RedisConnections(redis.target, {
    commandTimeout: STORE_DEFAULTS.redis.commandTimeout,
    prefix: redis.keyPrefix,
  });
  const client = connections.open("pub");
  client.on("error", () => {});
  try {
    await waitReady(client, 10_000);
    const kind = redis.adapter === "sharded" || redis.adapter === "classic" ? redis.adapter : true;
    const link = await AdapterLink.open(client, connections, kind, `${redis.keyPrefix}:io`, logger);
    return {
      get up() {
        return isUp(link.pub) && isUp(link.sub);
      },
      install: (io, refreshAdapter, log) => link.install(io, refreshAdapter, log),
      close: () => link.close(),
    };
  } finally {
    client.disconnect(false);
  }
}

/**
 * The scale-out of a node, opened in the background once the store is ready (so that a server
 * can be created synchronously): `install` takes effect as soon as it is open, `close` closes it
 * whenever it opens.
 *
 * @example
 * ```ts
 * const scaleOut = new ScaleOut(store, options, logger, store.ready?.());
 * scaleOut.install(io, realtime);     // now, or once open
 * await scaleOut.ready;               // open (or nothing to open)
 * ```
 */
export class ScaleOut {
  /** Resolves once open (at once when the store needs none); rejects when it cannot be opened. */
  readonly ready: Promise<void>;
  /** The backend shared across nodes (it names the health gauge), or null when there is none. */
  readonly backend: "redis" | "postgres" | null;
  #opened: NodeScaleOut | null = null;
  #install: { io: SoloIo; target: Reconcilable } | null = null;
  #closed = false;

  constructor(
    store: SessionStore,
    options: Pick<ResolvedOptions, "redis" | "postgres" | "nodeId">,
    logger: Logger,
    after: Promise<unknown> = Promise.resolve(),
  ) {
    this.backend = store instanceof RedisStore ? "redis" : store instanceof PostgresStore ? "postgres" : null;
    this.ready = after
      .then(() => openScaleOut(store, options, logger))
      .then(async (opened) => {
        if (this.#closed) {
          await opened?.close();
          return;
        }
        this.#opened = opened;
        if (opened && this.#install) opened.install(this.#install.io as unknown as Server, this.#install.target);
      });
    this.ready.catch(() => {}); // reported through `ready` by its owner
  }

  /** Whether every connection of the scale-out is ready (false until it is open). */
  get up(): boolean {
    return this.#opened?.up ?? false;
  }

  /** Installs the adapter and reconciliation on `io` for `target`, now or once open. */
  install(io: SoloIo, target: Reconcilable): void {
    this.#install = { io, target };
    this.#opened?.install(io as unknown as Server, target);
  }

  /** Closes the scale-out's connections (now, or as soon as they open). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#opened?.close();
  }
}
