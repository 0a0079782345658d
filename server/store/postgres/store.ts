/**
 * The session registry on PostgreSQL, for several server nodes on the database an app already
 * runs. Its parts: the names and migrations (`schema.ts`, `migrate.ts`), the SQL
 * (`statements.ts`), the connections and per-user transactions (`connection.ts`), the batched
 * audit writes (`audit-queue.ts`) and the ends table the nodes read (`ends.ts`). The scale-out
 * that follows the ends lives with the realtime side (`server/realtime/postgres/`).
 *
 *
 * Longer than ~300 lines: it is the one face of the `SessionStore` interface on PostgreSQL
 * (every method, each a short transaction or query); the SQL itself lives in `statements.ts`.
 *
 * @module
 */

import type pg from "pg";
import { SoloError } from "../../errors/solo-error.js";
import { BoundedMap } from "../../util/bounded-map.js";
import { STORE_DEFAULTS } from "../defaults.js";
import { storeClosed, toStoreError } from "../shared/errors.js";
import { auditBefore, clampLimit, liveAfter, livePage } from "../shared/paging.js";
import { applyDecision } from "../shared/sessions.js";
import {
  type AuditEvent,
  type AuditQuery,
  type ClaimResult,
  type Decide,
  type DeliveryStatus,
  type ListLiveQuery,
  type LivePage,
  type NewAuditEvent,
  REPLACED_TOMBSTONES_PER_USER,
  type SessionEnd,
  type SessionRecord,
  type SessionStore,
} from "../types.js";
import { PgAuditQueue } from "./audit-queue.js";
import { connectionConfig, openPool, PgRunner, type PoolSettings } from "./connection.js";
import { PgEnds } from "./ends.js";
import { type MigrationReport, migrate } from "./migrate.js";
import {
  type AuditRow,
  endedByParam,
  fromAuditRow,
  fromRow,
  PgNames,
  type SessionRow,
  sessionParams,
} from "./schema.js";
import { auditListing, liveListing, type Statements, statements } from "./statements.js";

/** Options of {@link PostgresStore}. Durations are in milliseconds. */
export interface PostgresStoreOptions {
  /**
   * Connection URL (`postgres://user:password@host:5432/database`, with `?sslmode=...` as
   * node-postgres reads it). Without it (and without `pool`), node-postgres's defaults and the
   * `PG*` environment variables apply.
   */
  url?: string;
  /**
   * The pool: settings of the store's own (`max` 10, `connectionTimeoutMillis` 2000,
   * `idleTimeoutMillis` 10_000), or a `pg.Pool` of the app's own (then `url` is not used,
   * `close()` leaves the pool open, and the store still gives up waiting for one of its
   * connections after 2000 ms). @default the store's own pool with those settings
   */
  pool?: pg.Pool | Partial<PoolSettings>;
  /** The schema of the store's tables (created if missing). @default "public" */
  schema?: string;
  /** Prefix of every table, index and channel of the store. @default "solo_" */
  tablePrefix?: string;
  /**
   * A statement with no answer after this long fails with `store_unavailable`; the server
   * cancels it (`statement_timeout`) and ends a transaction left idle this long. @default 5000
   */
  queryTimeout?: number;
  /** Audit events kept (the oldest are deleted first), as on every backend. @default 100_000 */
  auditMaxLength?: number;
  /** Rows kept in the ends table (the newest); `purge` deletes the rest. @default 10_000 */
  endsMaxLength?: number;
  /** Ends older than this are deleted by `purge`. @default 1 hour */
  endsRetention?: number;
  /** `application_name` of the store's own connections. @default "solo-session" */
  applicationName?: string;
  /** Errors of idle pooled connections (the server restarted, say); the pool replaces them. @default ignored */
  onError?: (error: Error) => void;
}

/** Session ids looked up by `end` remember their user here (ids never change user). */
const USER_CACHE_SIZE = 10_000;
/** `ready()` retries a database that refuses connections this often, in ms. */
const READY_RETRY = 250;

/**
 * The session registry on PostgreSQL (`SOLO_STORE=postgres`), for several nodes sharing one
 * database. Tables, indexes and migrations: `schema.ts`; how each operation commits:
 * `statements.ts`.
 *
 * A claim runs in one transaction that holds an advisory lock of the user (`pg_advisory_xact_lock`
 * on 64 bits of a hash of the store's schema, prefix and the user id): claims, `end` and
 * `endAll` of one user run one at a time across every node, other users' in parallel, with no
 * retry. Inside one process they queue before taking a connection. Every transaction that ends
 * sessions inserts them into the ends table and notifies the ends channel; PostgreSQL delivers
 * the notification when it commits, so the announcement cannot be lost between a commit and a
 * publish.
 *
 * While the database is unreachable (or the pool has no connection free within
 * `connectionTimeoutMillis`) every method rejects with `SoloError("store_unavailable")`; the
 * pool reconnects by itself and the store resumes.
 *
 * @example
 * ```ts
 * const store = new PostgresStore({ url: process.env.DATABASE_URL });
 * await store.ready(); // connects and migrates the schema
 * const solo = await createSoloServer({ authenticate, store });
 * ```
 */
export class PostgresStore implements SessionStore {
  /** The pool the store runs on (its own, or the app's). */
  readonly pool: pg.Pool;
  /** The names of the store's tables and channels. */
  readonly names: PgNames;
  /** The ends table, as the nodes read it. */
  readonly ends: PgEnds;
  readonly #db: PgRunner;
  readonly #sql: Statements;
  readonly #audit: PgAuditQueue;
  readonly #ownsPool: boolean;
  readonly #onPoolError: (error: Error) => void;
  readonly #settings: { endsMaxLength: number; endsRetention: number };
  readonly #userOf = new BoundedMap<string, string>(USER_CACHE_SIZE);
  #closed = false;

  constructor(options: PostgresStoreOptions = {}) {
    const defaults = STORE_DEFAULTS.postgres;
    this.names = new PgNames(options.schema ?? defaults.schema, options.tablePrefix ?? defaults.tablePrefix);
    const queryTimeout = positive("queryTimeout", options.queryTimeout ?? defaults.queryTimeout);
    const given = options.pool;
    const settings: PoolSettings = { ...defaults.pool, ...(isPool(given) ? {} : given) };
    positive("pool.max", settings.max);
    positive("pool.connectionTimeoutMillis", settings.connectionTimeoutMillis);
    this.#ownsPool = !isPool(given);
    this.pool = isPool(given)
      ? given
      : openPool(options.url ?? null, settings, queryTimeout, options.applicationName ?? defaults.applicationName);
    const onError = options.onError;
    this.#onPoolError = (error) => onError?.(error);
    this.pool.on("error", this.#onPoolError);
    this.#settings = {
      endsMaxLength: positive("endsMaxLength", options.endsMaxLength ?? defaults.endsMaxLength),
      endsRetention: positive("endsRetention", options.endsRetention ?? defaults.endsRetention),
    };
    this.#db = new PgRunner(this.pool, settings.connectionTimeoutMillis, queryTimeout);
    this.#sql = statements(this.names);
    this.#audit = new PgAuditQueue(
      this.#db,
      this.#sql,
      positive("auditMaxLength", options.auditMaxLength ?? STORE_DEFAULTS.auditMaxLength),
    );
    this.ends = new PgEnds(this.#db, this.#sql, this.names);
  }

  /**
   * Resolves once the database answers and the schema is migrated (several nodes may call it at
   * once: one migrates, the others wait for it and find it done). Retries a database that
   * refuses connections; rejects with `store_unavailable` if it is still unreachable after
   * `timeout` ms, and with the error itself if a migration fails.
   */
  async ready(timeout = 10_000): Promise<MigrationReport> {
    const deadline = Date.now() + timeout;
    for (;;) {
      if (this.#closed) throw storeClosed();
      let client: pg.PoolClient | null = null;
      try {
        client = await this.pool.connect();
        client.on("error", ignore);
        const report = await migrate(client, this.names);
        client.off("error", ignore);
        client.release();
        return report;
      } catch (error) {
        client?.off("error", ignore);
        client?.release(true);
        const mapped = toStoreError(error);
        if (!(mapped instanceof SoloError) || Date.now() + READY_RETRY > deadline) throw mapped;
      }
      await new Promise((resolve) => setTimeout(resolve, READY_RETRY));
    }
  }

  /** The connection settings of the store's pool, for the scale-out's own connections. */
  connectionConfig(): pg.ClientConfig {
    return connectionConfig(this.pool);
  }

  claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    return this.#run(() =>
      this.#db.transaction([this.names.lockScope, session.userId], async (tx) => {
        const live = (await tx.query<SessionRow>(this.#sql.live, [session.userId])).rows.map(fromRow);
        const outcome = applyDecision(session, live, decide);
        if (outcome.kind === "refused") return outcome;
        const end = outcome.evicted[0]?.ended ?? null;
        await tx.query(this.#sql.claim, [
          outcome.evicted.map((e) => e.id),
          end?.at ?? null,
          end ? endedByParam(end) : null,
          JSON.stringify(end),
          this.ends.channel,
          ...sessionParams(session),
        ]);
        // Bounded tombstones: only the user's newest replaced sessions are kept.
        if (outcome.evicted.length > 0) {
          await tx.query(this.#sql.capReplaced, [session.userId, REPLACED_TOMBSTONES_PER_USER]);
        }
        this.#userOf.set(session.id, session.userId);
        return outcome;
      }),
    );
  }

  get(id: string): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const [row] = await this.#db.query<SessionRow>(this.#sql.get, [id]);
      return row ? fromRow(row) : null;
    });
  }

  listLive(userId: string): Promise<SessionRecord[]> {
    return this.#run(async () => (await this.#db.query<SessionRow>(this.#sql.live, [userId])).map(fromRow));
  }

  listAllLive(query: ListLiveQuery): Promise<LivePage> {
    return this.#run(async () => {
      const limit = clampLimit(query.limit, STORE_DEFAULTS.page.live);
      const { text, values } = liveListing(this.names, query.userId, liveAfter(query.cursor), limit);
      return livePage((await this.#db.query<SessionRow>(text, values)).map(fromRow), limit);
    });
  }

  end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const userId = await this.#lookupUser(id);
      if (userId === null) return null;
      const rows = await this.#db.transaction([this.names.lockScope, userId], async (tx) => {
        return (await tx.query<SessionRow>(this.#sql.end, this.#endParams(id, end))).rows;
      });
      return rows[0] ? fromRow(rows[0]) : null;
    });
  }

  endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    return this.#run(async () => {
      const rows = await this.#db.transaction([this.names.lockScope, userId], async (tx) => {
        return (await tx.query<SessionRow>(this.#sql.endAll, this.#endParams(userId, end))).rows;
      });
      return rows.map(fromRow).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    });
  }

  touch(id: string, at: number): Promise<void> {
    return this.#run(async () => {
      await this.#db.query(this.#sql.touch, [at, id]);
    });
  }

  markPresence(ids: readonly string[], at: number): Promise<void> {
    return this.#run(async () => {
      // Sorted: two nodes confirming overlapping sets lock the rows in the same order.
      if (ids.length > 0) await this.#db.query(this.#sql.presence, [at, [...ids].sort()]);
    });
  }

  findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    return this.#run(async () =>
      (await this.#db.query<SessionRow>(this.#sql.stale, [now, idleBefore, limit])).map(fromRow),
    );
  }

  purge(sessionsBefore: number, auditBefore: number): Promise<number> {
    return this.#run(async () => {
      const deleted = await this.#db.query<{ id: string }>(`${this.#sql.purgeSessions} RETURNING id`, [sessionsBefore]);
      await this.#audit.flush();
      await this.#db.query(this.#sql.purgeAudit, [auditBefore]);
      await this.#db.query(this.#sql.pruneEnds, [this.#settings.endsMaxLength, this.#settings.endsRetention]);
      await this.#db.query(`DELETE FROM ${this.names.table("once")} WHERE until < $1`, [sessionsBefore]);
      for (const row of deleted) this.#userOf.delete(row.id);
      return deleted.length;
    });
  }

  /**
   * A single-use marker: `INSERT ... ON CONFLICT DO NOTHING` adds the key only when it is not
   * there, in one statement, so of any number of concurrent calls on any nodes exactly one adds it.
   */
  useOnce(key: string, until: number): Promise<boolean> {
    return this.#run(async () => {
      const rows = await this.#db.query<{ key: string }>(
        `INSERT INTO ${this.names.table("once")} (key, until) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
        [key, until],
      );
      return rows.length === 1;
    });
  }

  countLive(): Promise<number> {
    return this.#run(async () => {
      const [row] = await this.#db.query<{ n: number }>(this.#sql.countLive);
      return Number(row?.n ?? 0);
    });
  }

  appendAudit(event: NewAuditEvent): Promise<string> {
    return this.#run(() => this.#audit.append(event));
  }

  updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    return this.#run(() => this.#audit.updateDelivery(sessionId, status));
  }

  queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return this.#run(async () => {
      const limit = clampLimit(query.limit, STORE_DEFAULTS.page.audit);
      const below = auditBefore(query.before);
      // A cursor from another store's ids (not a number) selects nothing, as on SQLite.
      if (below !== null && !/^\d{1,18}$/.test(below)) return [];
      await this.#audit.flush();
      const { text, values } = auditListing(this.names, query, below, limit);
      return (await this.#db.query<AuditRow>(text, values)).map(fromAuditRow);
    });
  }

  ping(): Promise<void> {
    return this.#run(async () => {
      await this.#db.query(this.#sql.ping);
    });
  }

  /** Writes the queued audit events, then closes the pool if it is the store's own. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#audit.flush();
    this.pool.off("error", this.#onPoolError);
    if (this.#ownsPool) {
      // Idle connections that fail while the pool ends need a listener too.
      this.pool.on("error", ignore);
      await this.pool.end();
    }
  }

  /** Runs a store operation on the open store; connection failures become `store_unavailable`. */
  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosed();
    try {
      return await operation();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** The parameters of `end` and `endAll` after their first (the id or the user). */
  #endParams(first: string, end: SessionEnd): unknown[] {
    return [first, end.at, end.reason, endedByParam(end), JSON.stringify(end), this.ends.channel];
  }

  async #lookupUser(id: string): Promise<string | null> {
    const cached = this.#userOf.get(id);
    if (cached !== undefined) return cached;
    const [row] = await this.#db.query<{ user_id: string }>(this.#sql.userOf, [id]);
    if (row) this.#userOf.set(id, row.user_id);
    return row?.user_id ?? null;
  }
}

/** True for a `pg.Pool` (of any copy of node-postgres): something to connect and query on. */
function isPool(value: unknown): value is pg.Pool {
  const pool = value as { connect?: unknown; query?: unknown } | null | undefined;
  return typeof pool?.connect === "function" && typeof pool.query === "function";
}

function positive(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`PostgresStore: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

function ignore(): void {}
