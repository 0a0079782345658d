/**
 * The PostgreSQL store's connections: its pool (its own, or the app's), queries with a bounded
 * wait for a connection and a bounded reply, and transactions serialised per key (a user) by an
 * advisory transaction lock, queued per key inside this process first.
 *
 * @module
 */

import { createHash } from "node:crypto";
import pg from "pg";
import { SoloError } from "../../errors/solo-error.js";
import { toStoreError } from "../shared/errors.js";

/** The settings of the store's own pool. */
export interface PoolSettings {
  /** Connections per node at most. */
  max: number;
  /** How long a call waits for a free connection before it fails with `store_unavailable`, in ms. */
  connectionTimeoutMillis: number;
  /** An idle connection is closed after this long, in ms. */
  idleTimeoutMillis: number;
}

/** What a query runs on: the pool or one checked-out connection. */
export type Queryable = Pick<pg.ClientBase, "query">;

/** A bigint advisory lock key (a decimal literal) for `scope` and `key`: 64 bits of their SHA-256. */
export function lockKey(scope: string, key: string): string {
  return createHash("sha256").update(scope).update("\0").update(key).digest().readBigInt64BE(0).toString();
}

/**
 * The connection settings the store's pool was made with, for the extra connections the
 * scale-out opens (the listener, the Socket.IO adapter's pool).
 */
export function connectionConfig(pool: pg.Pool): pg.ClientConfig {
  const { max: _max, min: _min, idleTimeoutMillis: _idle, ...client } = pool.options as pg.PoolConfig;
  return client;
}

/** Opens the store's own pool: a URL, the pool settings, timeouts and an application name. */
export function openPool(
  url: string | null,
  settings: PoolSettings,
  queryTimeout: number,
  applicationName: string,
): pg.Pool {
  return new pg.Pool({
    ...(url === null ? {} : { connectionString: url }),
    max: settings.max,
    connectionTimeoutMillis: settings.connectionTimeoutMillis,
    idleTimeoutMillis: settings.idleTimeoutMillis,
    statement_timeout: queryTimeout,
    idle_in_transaction_session_timeout: queryTimeout,
    application_name: applicationName,
    keepAlive: true,
  });
}

/**
 * Runs the store's SQL on a pool: every call waits at most `connectionTimeout` ms for a
 * connection and `queryTimeout` ms for each reply, then fails with `store_unavailable`; a
 * connection that failed mid-call is discarded, not returned to the pool.
 */
export class PgRunner {
  readonly pool: pg.Pool;
  readonly #connectionTimeout: number;
  readonly #queryTimeout: number;
  /** Per key, the tail of this process's queue of transactions on it. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(pool: pg.Pool, connectionTimeout: number, queryTimeout: number) {
    this.pool = pool;
    this.#connectionTimeout = connectionTimeout;
    this.#queryTimeout = queryTimeout;
  }

  /** Runs one statement (in its own implicit transaction); resolves with its rows. */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const client = await this.#acquire();
    try {
      const result = await this.#run<R>(client, text, values);
      client.release();
      return result.rows;
    } catch (error) {
      client.release(answered(error) ? undefined : true);
      throw toStoreError(error);
    }
  }

  /**
   * Runs `body` in one transaction that holds the advisory lock of `lock` (`[scope, key]`):
   * the transactions of one key run one at a time across every node. Inside this process they
   * queue before taking a connection, so that a burst on one key (one user's racing logins)
   * holds one pooled connection, not the whole pool. The transaction's statements get the
   * query timeout as `statement_timeout` and `idle_in_transaction_session_timeout`, so that a
   * node frozen mid-transaction cannot hold the lock longer than that.
   */
  transaction<T>(lock: readonly [scope: string, key: string], body: (tx: Queryable) => Promise<T>): Promise<T> {
    const queueKey = lock.join("\0");
    const previous = this.#queues.get(queueKey) ?? Promise.resolve();
    const run = previous.then(
      () => this.#transaction(lockKey(...lock), body),
      () => this.#transaction(lockKey(...lock), body),
    );
    const tail = run.catch(() => undefined);
    this.#queues.set(queueKey, tail);
    void tail.then(() => {
      if (this.#queues.get(queueKey) === tail) this.#queues.delete(queueKey);
    });
    return run;
  }

  async #transaction<T>(key: string, body: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#acquire();
    const tx: Queryable = {
      query: ((text: string, values?: unknown[]) => this.#run(client, text, values ?? [])) as Queryable["query"],
    };
    try {
      const timeout = Math.trunc(this.#queryTimeout);
      // One round trip: only numbers are spliced in (the key is a decimal literal made above).
      await this.#run(
        client,
        `BEGIN; SET LOCAL statement_timeout = ${timeout}; SET LOCAL idle_in_transaction_session_timeout = ${timeout}; SELECT pg_advisory_xact_lock(${key})`,
        null,
      );
      const result = await body(tx);
      await this.#run(client, "COMMIT", null);
      client.release();
      return result;
    } catch (error) {
      // After an error reply the connection is fine: roll back and reuse it. After anything
      // else (a dropped connection, a reply that never came) it is discarded at once.
      const rolledBack = answered(error)
        ? await this.#run(client, "ROLLBACK", null).then(
            () => true,
            () => false,
          )
        : false;
      client.release(rolledBack ? undefined : true);
      throw toStoreError(error);
    }
  }

  /** A statement with the reply timeout; `values: null` sends it as a simple query (several statements, no parameters). */
  #run<R extends pg.QueryResultRow>(
    client: pg.PoolClient,
    text: string,
    values: unknown[] | null,
  ): Promise<pg.QueryResult<R>> {
    const config: pg.QueryConfig & { query_timeout: number } = { text, query_timeout: this.#queryTimeout };
    if (values !== null) config.values = values;
    return client.query<R>(config) as unknown as Promise<pg.QueryResult<R>>;
  }

  /**
   * A connection from the pool, waiting at most the connection timeout (whatever an app's own
   * pool was given); its errors while checked out are handled by the call that holds it.
   */
  async #acquire(): Promise<pg.PoolClient> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const connecting = this.pool.connect();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new SoloError("store_unavailable", { retryAfter: 1 }, "No database connection was free in time."));
      }, this.#connectionTimeout);
    });
    try {
      const client = await Promise.race([connecting, timeout]);
      client.on("error", ignore);
      const release = client.release.bind(client);
      client.release = (error?: Error | boolean) => {
        client.off("error", ignore);
        client.release = release;
        release(error);
      };
      return client;
    } catch (error) {
      if (timedOut) connecting.then((late) => late.release(), ignore);
      throw toStoreError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Connection errors of a checked-out client surface on its call; the event itself needs a listener. */
function ignore(): void {}

/** True for an error reply of the server on a connection that stays usable (not a connection failure or shutdown). */
function answered(error: unknown): boolean {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof severity === "string" && typeof code === "string" && !/^(08|57P0)/.test(code);
}
