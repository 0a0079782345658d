/**
 * Scale-out wiring for `store: "postgres"`: the listening connection (`listener.ts`), the ends
 * reader (`ends-reader.ts`), a Socket.IO adapter (the PostgreSQL one, `adapter.ts`, or the Redis
 * one) and reconciliation, put together for one node. Like the Redis wiring it lives with the
 * realtime side and only reads what the store writes, through `store/postgres/ends.ts`.
 *
 * @module
 */

import type { Logger } from "pino";
import type { Server } from "socket.io";
import { revocationNotice } from "../../sessions/views.js";
import type { PostgresStore } from "../../store/postgres/store.js";
import { type ReconcileReason, Reconciler } from "../redis/reconciler.js";
import type { Reconcilable } from "../types.js";
import { EndsReader } from "./ends-reader.js";
import { EndsListener } from "./listener.js";

/** A Socket.IO cluster adapter as the wiring installs it (the PostgreSQL or the Redis one). */
export interface ClusterAdapter {
  /** True while the adapter's connections are up (unknown ones count as up). */
  readonly up: boolean;
  install(io: Server, refreshAdapter: () => void, logger: Logger): void;
  close(): Promise<void>;
}

/** Settings of {@link PostgresCluster}. */
export interface PostgresClusterOptions {
  /** The store: its ends table, its channel and its connection settings. */
  store: PostgresStore;
  /** The adapter to install at `attach()`, or null for none (the app brings its own). */
  adapter: ClusterAdapter | null;
  /** How often every node re-checks its sockets against the store, in ms. */
  reconcileInterval: number;
  /** How often every node reads the ends table besides on notifications, in ms: the bound on a lost notification. */
  endsPollInterval: number;
  /** Names this node's listening connection (`application_name`). */
  nodeId: string;
  logger: Logger;
}

/**
 * Scale-out wiring for `store: "postgres"`:
 *
 * - the listening connection and the ends reader: every transaction that ends sessions inserts
 *   them into the ends table and notifies the ends channel, delivered when it commits; every
 *   node listens on a connection of its own and reads the table from the last id it read on
 *   each notification, after each reconnect and every `endsPollInterval` (a notification lost
 *   with its connection costs at most that), and tells its sockets;
 * - a Socket.IO adapter (PostgreSQL's LISTEN/NOTIFY one, or Redis's when Redis is configured
 *   too): "one socket per session" across nodes and the /admin feed's events;
 * - reconciliation, the backstop for whatever these miss: each node re-checks its own sockets
 *   against the store after its listening connection comes back, when it fell behind the ends
 *   table's pruning, and every `reconcileInterval`.
 *
 * @example
 * ```ts
 * const cluster = await PostgresCluster.open({ store, adapter: null, reconcileInterval: 30_000,
 *   endsPollInterval: 1000, nodeId: "node-1", logger });
 * cluster.install(io, realtime);
 * // ...
 * await cluster.close();
 * ```
 */
export class PostgresCluster {
  readonly #options: PostgresClusterOptions;
  readonly #listener: EndsListener;
  readonly #reader: EndsReader;
  #reconciler: Reconciler | null = null;
  #poll: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(options: PostgresClusterOptions, listener: EndsListener, reader: EndsReader) {
    this.#options = options;
    this.#listener = listener;
    this.#reader = reader;
  }

  /**
   * Opens the listening connection and finds where the ends table stands. Rejects with
   * `store_unavailable` when the database cannot be reached.
   */
  static async open(options: PostgresClusterOptions): Promise<PostgresCluster> {
    const { store, logger } = options;
    const listener = await EndsListener.open(
      store.connectionConfig(),
      store.ends.channel,
      `solo-session listen ${options.nodeId}`,
      logger,
    );
    try {
      return new PostgresCluster(options, listener, await EndsReader.open(store.ends, logger));
    } catch (error) {
      await listener.close();
      throw error;
    }
  }

  /**
   * True when this node hears every end: its listening connection listens, its last read of
   * the ends table succeeded, and the adapter's connections are up (`solo_postgres_up`).
   */
  get up(): boolean {
    return this.#listener.up && this.#reader.ok && (this.#options.adapter?.up ?? true);
  }

  /**
   * Installs the adapter on the Socket.IO server (unless it already has a cluster adapter of
   * the app's own), starts following the ends table and starts reconciliation for `target`.
   */
  install(io: Server, target: Reconcilable): void {
    if (this.#reconciler) throw new Error("solo-session: the cluster wiring is already installed");
    const { logger, reconcileInterval, endsPollInterval, adapter } = this.#options;
    const reconciler = new Reconciler(() => target.reconcile(), logger);
    this.#reconciler = reconciler;
    adapter?.install(io, () => target.refreshAdapter(), logger);
    this.#reader.start({
      ended: (entry) => target.revokeHeard(revocationNotice({ id: entry.sessionId, ended: entry.ended })),
      behind: () => {
        logger.warn("fell behind the ends table; reconciling");
        void reconciler.reconcile("behind");
      },
    });
    this.#listener.start({
      notified: () => void this.#reader.read(),
      // Listening again: what committed meanwhile is in the table; read it, then re-check.
      restored: () => void this.#reader.read().then(() => reconciler.reconcile("reconnect")),
      lost: () => {},
    });
    this.#poll = setInterval(() => void this.#reader.read(), endsPollInterval);
    this.#poll.unref();
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

  /** Stops timers, closes the listening connection and the adapter (the store closes its own pool). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    await this.#reconciler?.close();
    await this.#listener.close();
    await this.#reader.close();
    await this.#options.adapter?.close();
  }
}
