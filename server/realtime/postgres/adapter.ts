/**
 * The Socket.IO PostgreSQL adapter (`@socket.io/postgres-adapter`, LISTEN/NOTIFY): "one socket
 * per session" across nodes, the notices of ended sessions over `serverSideEmit` (the ends
 * table carries them too; a repeat is harmless), and the /admin feed's events. It runs on a
 * small pool of its own, with the store's connection settings: it keeps one connection
 * checked out to listen, and would otherwise take it from the store's.
 *
 * @module
 */

import { createAdapter, PostgresAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";
import type { Logger } from "pino";
import type { Server } from "socket.io";
import { Adapter } from "socket.io-adapter";
import type { PgNames } from "../../store/postgres/schema.js";

/** Connections of the adapter's pool: one listens, the others publish. */
const POOL_SIZE = 4;
/** How long a publish waits for a connection of the adapter's pool, in ms. */
const CONNECT_TIMEOUT = 2000;

/** The adapter's pool, and the adapter once installed. */
export class PgAdapterLink {
  readonly pool: pg.Pool;
  readonly #names: PgNames;
  /** Connections the adapter checked out itself (its listening one) and has not released. */
  readonly #held = new Set<pg.PoolClient>();
  #io: Server | null = null;
  #closed = false;

  private constructor(pool: pg.Pool, names: PgNames) {
    this.pool = pool;
    this.#names = names;
  }

  /** Opens the adapter's pool with the store's connection settings; it connects on first use. */
  static open(config: pg.ClientConfig, names: PgNames, applicationName: string, logger: Logger): PgAdapterLink {
    const pool = new pg.Pool({
      ...config,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT,
      application_name: applicationName.slice(0, 63),
      statement_timeout: false,
      keepAlive: true,
    });
    // The adapter keeps its listening connection checked out without an error listener: a
    // connection error there would be an unhandled 'error' event. Every connection gets one.
    pool.on("connect", (client) =>
      client.on("error", (error) => logger.debug({ err: error }, "adapter connection failed")),
    );
    pool.on("error", (error) => logger.debug({ err: error }, "adapter connection failed"));
    const link = new PgAdapterLink(pool, names);
    link.#guardCheckouts();
    return link;
  }

  /**
   * True while the adapter holds a connection (it keeps its listening one checked out; after a
   * lost connection it takes a new one within about two seconds). True before it is installed.
   */
  get up(): boolean {
    return this.#io === null || this.pool.totalCount > 0;
  }

  /**
   * Installs the adapter on the Socket.IO server, unless it already has a cluster adapter of
   * the app's own (then that one stays). Either way `refreshAdapter` is called after.
   */
  install(io: Server, refreshAdapter: () => void, logger: Logger): void {
    if (io.adapter() === Adapter) {
      this.#io = io;
      io.adapter(
        createAdapter(this.pool, {
          channelPrefix: this.#names.adapterChannelPrefix,
          tableName: this.#names.table("io_attachments"),
          // A lost publish is a notice this path lost (the ends table still carries it).
          errorHandler: (error) =>
            logger.warn({ err: error }, "postgres adapter: publish failed; the ends table carries notices"),
        }),
      );
    } else {
      logger.info("the Socket.IO server already has an adapter: leaving it in place");
    }
    refreshAdapter();
  }

  /**
   * Stops the adapter's listening connection and timers (closing the Socket.IO server does it
   * too; doing it twice is harmless) and closes the pool.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const nsp of this.#io?._nsps.values() ?? []) {
      if (nsp.adapter instanceof PostgresAdapter) nsp.adapter.close();
    }
    this.#io = null;
    // A listening connection the adapter was still setting up when it closed (checked out, its
    // LISTEN in flight) is not known to its close(): released here, or end() would wait forever.
    for (const client of this.#held) client.release(true);
    await this.pool.end();
  }

  /**
   * Three gaps of the adapter (0.5), closed around the connections it checks out itself (its
   * listening one): when such a connection ends (the server restarted), the adapter drops it
   * without releasing it, so the pool would count it forever and `end()` would never finish:
   * it is released here instead. Its `close()` releases only a connection that already
   * listens, not one it is still setting up: `close()` of the link releases those. And the
   * adapter retries a failed listening connection every two seconds with no way to stop: once
   * the link is closed, a checkout never answers (and one that comes in late is given back),
   * which ends the retries (a promise no one settles holds no timer).
   */
  #guardCheckouts(): void {
    const pool = this.pool;
    const connect = pool.connect.bind(pool) as (callback?: unknown) => unknown;
    pool.connect = ((callback?: unknown) => {
      if (callback !== undefined) return connect(callback);
      if (this.#closed) return new Promise(() => {});
      return (connect() as Promise<pg.PoolClient>).then((client) => {
        if (this.#closed) {
          client.release(true);
          return new Promise(() => {});
        }
        this.#held.add(releasedWhenEnded(client, (c) => this.#held.delete(c)));
        return client;
      });
    }) as typeof pool.connect;
  }
}

/**
 * Makes a checked-out connection release itself (as failed) if it ends before it is released;
 * `onRelease` is told once, however it was released.
 */
function releasedWhenEnded(client: pg.PoolClient, onRelease: (client: pg.PoolClient) => void): pg.PoolClient {
  const release = client.release;
  let released = false;
  const finish = (error?: Error | boolean) => {
    if (released) return;
    released = true;
    client.off("end", onEnd);
    onRelease(client);
    release(error);
  };
  const onEnd = () => finish(new Error("connection ended while checked out"));
  client.release = finish;
  client.once("end", onEnd);
  return client;
}
