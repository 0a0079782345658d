/**
 * The embedded default store: one SQLite file.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { DELIVERY_RANK } from "../../../protocol/index.js";
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
import { AuditQueue } from "./audit-queue.js";
import { type Checkpointer, startCheckpointer } from "./checkpointer.js";
import { ONCE_SCHEMA, SqliteOnce } from "./once.js";
import { SqliteOutbox } from "./outbox.js";
import { type AuditRow, fromAuditRow, fromRow, SCHEMA, type SessionRow, toAuditRow, toRow } from "./schema.js";
import { auditListing, liveListing, prepareStatements, type Statement, type Statements } from "./statements.js";

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Path of the database file, or `":memory:"`. */
  filename: string;
  /**
   * How long a writer waits for another process's lock, in ms; then the call fails with
   * `store_unavailable`. @default 5000
   */
  busyTimeout?: number;
  /**
   * How often a worker thread checkpoints the WAL into the database file, in ms; 0 leaves it
   * to SQLite's automatic checkpoint on the committing thread. @default 100
   */
  checkpointInterval?: number;
  /** Audit events kept (the oldest are deleted first), as on every backend. @default 100_000 */
  auditMaxLength?: number;
  /**
   * The receivers (ids) of session events: with any, every end also writes one outbox row per
   * receiver in its transaction, and {@link SqliteStore.outbox} is there. @default []
   */
  receivers?: readonly string[];
}

/**
 * The embedded default store: one SQLite file (WAL mode) in `SOLO_DATA_DIR`. Each claim
 * runs in one `BEGIN IMMEDIATE` transaction, so it is atomic even when several processes
 * share the file. Survives restarts: live sessions stay valid, ended ones stay refused.
 *
 * Audit writes are batched (see `audit-queue.ts`). A lock held by another process past
 * `busyTimeout` fails the call with `store_unavailable`, as does any call after `close()`.
 *
 * @example
 * ```ts
 * const solo = await createSoloServer({ authenticate, store: new SqliteStore({ filename: "./data/solo.db" }) });
 * ```
 */
export class SqliteStore implements SessionStore {
  readonly #db: Database.Database;
  readonly #stmt: Statements;
  readonly #claimTx: (session: SessionRecord, decide: Decide) => ClaimResult;
  readonly #endAllTx: (userId: string, end: SessionEnd) => SessionRecord[];
  readonly #endTx: (id: string, end: SessionEnd) => boolean;
  readonly #outbox: SqliteOutbox | undefined;
  readonly #presenceTx: (ids: readonly string[], at: number) => void;
  readonly #audit: AuditQueue;
  readonly #once: SqliteOnce;
  readonly #checkpointer: Checkpointer | null = null;

  constructor(options: SqliteStoreOptions) {
    const defaults = STORE_DEFAULTS.sqlite;
    if (options.filename !== ":memory:") mkdirSync(dirname(options.filename), { recursive: true });
    const db = new Database(options.filename);
    this.#db = db;
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeout ?? defaults.busyTimeout)}`);
    db.exec(SCHEMA);
    db.exec(ONCE_SCHEMA);
    const interval = options.checkpointInterval ?? defaults.checkpointInterval;
    if (options.filename !== ":memory:" && interval > 0) {
      this.#checkpointer = startCheckpointer(db, options.filename, interval);
    }

    this.#stmt = prepareStatements((sql) => db.prepare(sql));
    this.#once = new SqliteOnce((sql) => db.prepare(sql));
    this.#audit = new AuditQueue(
      (fn) => db.transaction(fn).immediate,
      (id) => this.#stmt.capAudit.run(id),
      options.auditMaxLength ?? STORE_DEFAULTS.auditMaxLength,
    );

    this.#claimTx = db.transaction((session: SessionRecord, decide: Decide): ClaimResult => {
      const live = this.#stmt.live.all(session.userId).map(fromRow);
      const outcome = applyDecision(session, live, decide);
      if (outcome.kind === "refused") return outcome;
      for (const ended of outcome.evicted) this.#writeEnd(ended.id, ended.ended as SessionEnd);
      this.#stmt.insert.run(toRow(session));
      // Bounded tombstones: only the user's newest replaced sessions are kept.
      if (outcome.evicted.length > 0) this.#stmt.capReplaced.run(session.userId, REPLACED_TOMBSTONES_PER_USER);
      return outcome;
    }).immediate;

    this.#endAllTx = db.transaction((userId: string, end: SessionEnd): SessionRecord[] => {
      const live = this.#stmt.live.all(userId).map(fromRow);
      for (const s of live) this.#writeEnd(s.id, end);
      return live.map((s) => ({ ...s, ended: end }));
    }).immediate;

    this.#endTx = db.transaction((id: string, end: SessionEnd) => this.#writeEnd(id, end)).immediate;
    this.#outbox = options.receivers?.length
      ? new SqliteOutbox(
          // better-sqlite3's statement, seen through the part the outbox uses (statements.ts).
          <P extends unknown[], R>(sql: string) => db.prepare<P, R>(sql) as unknown as Statement<P, R>,
          (fn) => db.transaction(fn).immediate,
          options.receivers,
          (op) => this.#run(op),
        )
      : undefined;

    this.#presenceTx = db.transaction((ids: readonly string[], at: number) => {
      for (const id of ids) this.#stmt.presence.run(at, id, at);
    }).immediate;
  }

  async claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    return this.#run(() => this.#claimTx(session, decide));
  }

  async get(id: string): Promise<SessionRecord | null> {
    return this.#run(() => {
      const row = this.#stmt.get.get(id);
      return row ? fromRow(row) : null;
    });
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    return this.#run(() => this.#stmt.live.all(userId).map(fromRow));
  }

  async listAllLive(query: ListLiveQuery): Promise<LivePage> {
    return this.#run(() => {
      const limit = clampLimit(query.limit, STORE_DEFAULTS.page.live);
      const { sql, params } = liveListing(query.userId, liveAfter(query.cursor), limit);
      return livePage(
        this.#db
          .prepare<(string | number)[], SessionRow>(sql)
          .all(...params)
          .map(fromRow),
        limit,
      );
    });
  }

  async end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    return this.#run(() => {
      if (!this.#endTx(id, end)) return null;
      const row = this.#stmt.get.get(id);
      return row ? fromRow(row) : null;
    });
  }

  async endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    return this.#run(() => this.#endAllTx(userId, end));
  }

  async touch(id: string, at: number): Promise<void> {
    this.#run(() => this.#stmt.touch.run(at, id, at));
  }

  async markPresence(ids: readonly string[], at: number): Promise<void> {
    this.#run(() => {
      if (ids.length > 0) this.#presenceTx(ids, at);
    });
  }

  async findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    return this.#run(() => {
      // Two index range scans (the partial indexes on live sessions), merged.
      const found = new Map<string, SessionRecord>();
      for (const row of this.#stmt.staleExpired.all(now, limit)) found.set(row.id, fromRow(row));
      for (const row of this.#stmt.staleIdle.all(idleBefore, limit)) {
        if (found.size >= limit) break;
        if (!found.has(row.id)) found.set(row.id, fromRow(row));
      }
      return [...found.values()];
    });
  }

  async purge(sessionsBefore: number, auditBefore: number): Promise<number> {
    return this.#run(() => {
      const n = this.#stmt.purgeSessions.run(sessionsBefore).changes;
      this.#once.purge(sessionsBefore);
      this.#audit.flush();
      this.#stmt.purgeAudit.run(auditBefore);
      this.#outbox?.purgeDead(auditBefore);
      return n;
    });
  }

  async useOnce(key: string, until: number): Promise<boolean> {
    return this.#run(() => this.#once.use(key, until));
  }

  async countLive(): Promise<number> {
    return this.#run(() => this.#stmt.countLive.get()?.n ?? 0);
  }

  async appendAudit(event: NewAuditEvent): Promise<string> {
    const row = toAuditRow(event);
    const id = await this.#run(() => this.#audit.push(() => String(this.#stmt.appendAudit.run(row).lastInsertRowid)));
    return id as string;
  }

  async updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    await this.#run(() =>
      this.#audit.push(() => {
        this.#stmt.updateDelivery.run(status, sessionId, DELIVERY_RANK[status]);
        return undefined;
      }),
    );
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return this.#run(() => {
      this.#audit.flush();
      const limit = clampLimit(query.limit, STORE_DEFAULTS.page.audit);
      const { sql, params } = auditListing(query, auditBefore(query.before), limit);
      return this.#db
        .prepare<(string | number)[], AuditRow>(sql)
        .all(...params)
        .map(fromAuditRow);
    });
  }

  async ping(): Promise<void> {
    this.#run(() => this.#stmt.ping.get());
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#audit.flush();
    this.#db.close();
    await this.#checkpointer?.stop();
  }

  /** Runs an operation on the open database; a lock held too long becomes `store_unavailable`. */
  #run<T>(operation: () => T): T {
    if (!this.#db.open) throw storeClosed();
    try {
      return operation();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** The session events for other services, when the store was opened with receivers. */
  get outbox(): SqliteOutbox | undefined {
    return this.#outbox;
  }

  /** Ends a live session; inside a transaction (with its outbox rows). False if it was not live. */
  #writeEnd(id: string, end: SessionEnd): boolean {
    const ended = this.#stmt.end.run(end.at, end.reason, end.by ? JSON.stringify(end.by) : null, id).changes === 1;
    if (ended) this.#outbox?.recordEnd(id);
    return ended;
  }
}
