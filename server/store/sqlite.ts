import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import type { RevocationReason } from "../protocol.js";
import { applyDecision, clampLimit, decodeCursor, encodeCursor } from "./shared.js";
import type {
  AuditEvent,
  AuditKind,
  AuditQuery,
  ClaimResult,
  Decide,
  DeliveryStatus,
  DeviceInfo,
  EndedBy,
  ListLiveQuery,
  LivePage,
  NewAuditEvent,
  SessionEnd,
  SessionRecord,
  SessionStore,
} from "./types.js";
import { DELIVERY_RANK, REPLACED_TOMBSTONES_PER_USER } from "./types.js";

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Path of the database file, or `":memory:"`. */
  filename: string;
  /** How long a writer waits for another process's lock, in ms. @default 5000 */
  busyTimeout?: number;
  /**
   * How often a worker thread checkpoints the WAL into the database file, in ms; 0 leaves it
   * to SQLite's automatic checkpoint on the committing thread. @default 100
   */
  checkpointInterval?: number;
}

/**
 * The checkpointer: its own connection in a worker thread, so that the checkpoint's writes
 * and fsync never stall a commit on the event loop (they put 10 ms on the p99 of a claim).
 */
const CHECKPOINTER = `
const { workerData, parentPort } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
const checkpoint = (mode) => { try { db.pragma("wal_checkpoint(" + mode + ")"); } catch {} };
const timer = setInterval(() => checkpoint("PASSIVE"), workerData.interval);
parentPort.on("message", () => { clearInterval(timer); checkpoint("PASSIVE"); db.close(); parentPort.close(); });
`;

/**
 * The WAL size (pages, about 200 MB) at which the committing thread checkpoints anyway: a
 * backstop if the worker is gone or cannot keep up. Below it, commits never checkpoint.
 */
const BACKSTOP_PAGES = 50_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  device_name   TEXT,
  browser       TEXT,
  os            TEXT,
  ip            TEXT,
  presence_at   INTEGER,
  ended_at      INTEGER,
  end_reason    TEXT,
  ended_by      TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_live_user ON sessions (user_id, created_at) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_live_created ON sessions (created_at, id) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_live_seen ON sessions (last_seen_at) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_live_expiry ON sessions (expires_at) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_ended_expiry ON sessions (expires_at) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_replaced_user ON sessions (user_id, ended_at, created_at) WHERE end_reason = 'replaced';
CREATE TABLE IF NOT EXISTS audit (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT NOT NULL,
  at          INTEGER NOT NULL,
  user_id     TEXT NOT NULL,
  session_id  TEXT,
  device      TEXT,
  node        TEXT NOT NULL,
  by_json     TEXT,
  delivery    TEXT,
  detail      TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS audit_user ON audit (user_id, id);
CREATE INDEX IF NOT EXISTS audit_session ON audit (session_id, id);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
`;

interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  device_name: string | null;
  browser: string | null;
  os: string | null;
  ip: string | null;
  presence_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  ended_by: string | null;
}

interface AuditRow {
  id: number;
  kind: string;
  at: number;
  user_id: string;
  session_id: string | null;
  device: string | null;
  node: string;
  by_json: string | null;
  delivery: string | null;
  detail: string | null;
}

/** An audit write waiting for the next batch. */
interface AuditWrite {
  run: () => string | undefined;
  resolve: (id: string | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * The embedded default store: one SQLite file (WAL mode) in `SOLO_DATA_DIR`. Each claim
 * runs in one `BEGIN IMMEDIATE` transaction, so it is atomic even when several processes
 * share the file. Survives restarts: live sessions stay valid, ended ones stay refused.
 *
 * Audit writes are batched: they are queued in call order and committed together in one
 * transaction on the next turn of the event loop (or before any audit read), so a login
 * commits once on its path (the claim), not three times, and the kick's notice is never
 * behind an audit commit.
 */
export class SqliteStore implements SessionStore {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepareStatements>;
  readonly #claimTx: (session: SessionRecord, decide: Decide) => ClaimResult;
  readonly #endAllTx: (userId: string, end: SessionEnd) => SessionRecord[];
  readonly #presenceTx: (ids: readonly string[], at: number) => void;
  readonly #auditTx: (writes: readonly AuditWrite[]) => (string | undefined)[];
  #auditQueue: AuditWrite[] = [];
  #auditFlush: NodeJS.Immediate | null = null;
  readonly #checkpointer: Worker | null = null;

  constructor(options: SqliteStoreOptions) {
    if (options.filename !== ":memory:") mkdirSync(dirname(options.filename), { recursive: true });
    const db = new Database(options.filename);
    this.#db = db;
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeout ?? 5000)}`);
    db.exec(SCHEMA);
    const interval = options.checkpointInterval ?? 100;
    if (options.filename !== ":memory:" && interval > 0) {
      db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      const driver = createRequire(import.meta.url).resolve("better-sqlite3");
      this.#checkpointer = new Worker(CHECKPOINTER, {
        eval: true,
        workerData: { driver, filename: options.filename, interval },
      });
      this.#checkpointer.unref();
    }

    this.#stmt = prepareStatements(db);

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

    this.#presenceTx = db.transaction((ids: readonly string[], at: number) => {
      for (const id of ids) this.#stmt.presence.run(at, id, at);
    }).immediate;

    this.#auditTx = db.transaction((writes: readonly AuditWrite[]) => writes.map((w) => w.run())).immediate;
  }

  async claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    return this.#claimTx(session, decide);
  }

  async get(id: string): Promise<SessionRecord | null> {
    const row = this.#stmt.get.get(id);
    return row ? fromRow(row) : null;
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    return this.#stmt.live.all(userId).map(fromRow);
  }

  async listAllLive(query: ListLiveQuery): Promise<LivePage> {
    const limit = clampLimit(query.limit, 50);
    const after = decodeCursor(query.cursor);
    const where = ["ended_at IS NULL"];
    const params: (string | number)[] = [];
    if (query.userId !== undefined) {
      where.push("user_id = ?");
      params.push(query.userId);
    }
    if (after) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(after.createdAt, after.createdAt, after.id);
    }
    const rows = this.#db
      .prepare<(string | number)[], SessionRow>(
        `SELECT * FROM sessions WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(...params, limit + 1);
    const sessions = rows.slice(0, limit).map(fromRow);
    const last = sessions[sessions.length - 1];
    return { sessions, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    if (!this.#writeEnd(id, end)) return null;
    const row = this.#stmt.get.get(id);
    return row ? fromRow(row) : null;
  }

  async endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    return this.#endAllTx(userId, end);
  }

  async touch(id: string, at: number): Promise<void> {
    this.#stmt.touch.run(at, id, at);
  }

  async markPresence(ids: readonly string[], at: number): Promise<void> {
    if (ids.length > 0) this.#presenceTx(ids, at);
  }

  async findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    // Two index range scans (the partial indexes on live sessions), merged.
    const found = new Map<string, SessionRecord>();
    for (const row of this.#stmt.staleExpired.all(now, limit)) found.set(row.id, fromRow(row));
    for (const row of this.#stmt.staleIdle.all(idleBefore, limit)) {
      if (found.size >= limit) break;
      if (!found.has(row.id)) found.set(row.id, fromRow(row));
    }
    return [...found.values()];
  }

  async purge(sessionsBefore: number, auditBefore: number): Promise<number> {
    const n = this.#stmt.purgeSessions.run(sessionsBefore).changes;
    this.#flushAudit();
    this.#stmt.purgeAudit.run(auditBefore);
    return n;
  }

  async countLive(): Promise<number> {
    return this.#stmt.countLive.get()?.n ?? 0;
  }

  async appendAudit(event: NewAuditEvent): Promise<string> {
    const row = {
      kind: event.kind,
      at: event.at,
      user_id: event.userId,
      session_id: event.sessionId,
      device: event.device ? JSON.stringify(event.device) : null,
      node: event.node,
      by_json: event.by ? JSON.stringify(event.by) : null,
      delivery: event.delivery,
      detail: event.detail,
    };
    const id = await this.#queueAudit(() => String(this.#stmt.appendAudit.run(row).lastInsertRowid));
    return id as string;
  }

  async updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    await this.#queueAudit(() => {
      this.#stmt.updateDelivery.run(status, sessionId, DELIVERY_RANK[status]);
      return undefined;
    });
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    this.#flushAudit();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.userId !== undefined) {
      where.push("user_id = ?");
      params.push(query.userId);
    }
    if (query.sessionId !== undefined) {
      where.push("session_id = ?");
      params.push(query.sessionId);
    }
    if (query.since !== undefined) {
      where.push("at >= ?");
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push("at < ?");
      params.push(query.until);
    }
    if (query.before !== undefined) {
      where.push("id < ?");
      params.push(Number(query.before) || 0);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return this.#db
      .prepare<(string | number)[], AuditRow>(sql)
      .all(...params, clampLimit(query.limit, 100))
      .map(fromAuditRow);
  }

  async ping(): Promise<void> {
    this.#stmt.ping.get();
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#flushAudit();
    this.#db.close();
    const worker = this.#checkpointer;
    if (worker) {
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.postMessage("close");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    }
  }

  /** Queues an audit write for the next batch; resolves when it is committed. */
  #queueAudit(run: () => string | undefined): Promise<string | undefined> {
    if (!this.#db.open) return Promise.reject(new Error("SqliteStore is closed"));
    return new Promise((resolve, reject) => {
      this.#auditQueue.push({ run, resolve, reject });
      this.#auditFlush ??= setImmediate(() => this.#flushAudit());
    });
  }

  /** Commits the queued audit writes in one transaction, in the order they were made. */
  #flushAudit(): void {
    if (this.#auditFlush) clearImmediate(this.#auditFlush);
    this.#auditFlush = null;
    const writes = this.#auditQueue;
    if (writes.length === 0) return;
    this.#auditQueue = [];
    let results: (string | undefined)[];
    try {
      results = this.#auditTx(writes);
    } catch (error) {
      for (const w of writes) w.reject(error);
      return;
    }
    writes.forEach((w, i) => {
      w.resolve(results[i]);
    });
  }

  #writeEnd(id: string, end: SessionEnd): boolean {
    return this.#stmt.end.run(end.at, end.reason, end.by ? JSON.stringify(end.by) : null, id).changes === 1;
  }
}

function prepareStatements(db: Database.Database) {
  return {
    get: db.prepare<[string], SessionRow>("SELECT * FROM sessions WHERE id = ?"),
    live: db.prepare<[string], SessionRow>(
      "SELECT * FROM sessions WHERE user_id = ? AND ended_at IS NULL ORDER BY created_at, id",
    ),
    insert: db.prepare(
      `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, device_name, browser, os, ip, presence_at)
       VALUES (@id, @user_id, @created_at, @last_seen_at, @expires_at, @device_name, @browser, @os, @ip, @presence_at)`,
    ),
    end: db.prepare<[number, string, string | null, string]>(
      "UPDATE sessions SET ended_at = ?, end_reason = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL",
    ),
    touch: db.prepare<[number, string, number]>(
      "UPDATE sessions SET last_seen_at = ? WHERE id = ? AND ended_at IS NULL AND last_seen_at < ?",
    ),
    presence: db.prepare<[number, string, number]>(
      "UPDATE sessions SET presence_at = ? WHERE id = ? AND ended_at IS NULL AND (presence_at IS NULL OR presence_at < ?)",
    ),
    staleExpired: db.prepare<[number, number], SessionRow>(
      "SELECT * FROM sessions INDEXED BY sessions_live_expiry WHERE ended_at IS NULL AND expires_at <= ? LIMIT ?",
    ),
    staleIdle: db.prepare<[number, number], SessionRow>(
      "SELECT * FROM sessions INDEXED BY sessions_live_seen WHERE ended_at IS NULL AND last_seen_at <= ? LIMIT ?",
    ),
    capReplaced: db.prepare<[string, number]>(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions INDEXED BY sessions_replaced_user
         WHERE user_id = ? AND end_reason = 'replaced'
         ORDER BY ended_at DESC, created_at DESC LIMIT -1 OFFSET ?)`,
    ),
    purgeSessions: db.prepare<[number]>("DELETE FROM sessions WHERE ended_at IS NOT NULL AND expires_at < ?"),
    purgeAudit: db.prepare<[number]>("DELETE FROM audit WHERE at < ?"),
    countLive: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL"),
    appendAudit: db.prepare(
      `INSERT INTO audit (kind, at, user_id, session_id, device, node, by_json, delivery, detail)
       VALUES (@kind, @at, @user_id, @session_id, @device, @node, @by_json, @delivery, @detail)`,
    ),
    updateDelivery: db.prepare<[string, string, number]>(
      `UPDATE audit SET delivery = ? WHERE session_id = ?
       AND kind IN ('replaced', 'logout', 'revoked', 'idle', 'expired')
       AND (CASE delivery WHEN 'pending' THEN 0 WHEN 'delivered' THEN 1 WHEN 'acknowledged' THEN 2 ELSE -1 END) < ?`,
    ),
    ping: db.prepare<[], { ok: number }>("SELECT 1 AS ok"),
  };
}

function toRow(s: SessionRecord) {
  return {
    id: s.id,
    user_id: s.userId,
    created_at: s.createdAt,
    last_seen_at: s.lastSeenAt,
    expires_at: s.expiresAt,
    device_name: s.device.name,
    browser: s.device.browser,
    os: s.device.os,
    ip: s.device.ip,
    presence_at: s.presenceAt,
  };
}

function fromRow(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    device: { name: r.device_name, browser: r.browser, os: r.os, ip: r.ip },
    presenceAt: r.presence_at,
    ended:
      r.ended_at === null
        ? null
        : {
            at: r.ended_at,
            reason: r.end_reason as RevocationReason,
            by: r.ended_by ? (JSON.parse(r.ended_by) as EndedBy) : null,
          },
  };
}

function fromAuditRow(r: AuditRow): AuditEvent {
  return {
    id: String(r.id),
    kind: r.kind as AuditKind,
    at: r.at,
    userId: r.user_id,
    sessionId: r.session_id,
    device: r.device ? (JSON.parse(r.device) as DeviceInfo) : null,
    node: r.node,
    by: r.by_json ? (JSON.parse(r.by_json) as AuditEvent["by"]) : null,
    delivery: r.delivery as DeliveryStatus | null,
    detail: r.detail,
  };
}
