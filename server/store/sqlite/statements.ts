/**
 * The SQL of the SQLite store: the prepared statements, and the two listings whose `WHERE`
 * depends on the query. Lists from the protocol (ending kinds, delivery ranks) and the audit
 * filters are turned into SQL here, from their one definition.
 *
 * @module
 */

import { DELIVERY_RANK, DELIVERY_STATUSES, ENDING_KINDS } from "../../../protocol/index.js";
import { AUDIT_FILTERS } from "../shared/audit.js";
import type { LivePosition } from "../shared/paging.js";
import type { AuditQuery } from "../types.js";
import { AUDIT_COLUMN, type AuditRow, type SessionRow, type toRow } from "./schema.js";

/**
 * The part of a prepared statement the store uses. better-sqlite3's statements have it; it is
 * written out here so that the published declarations name no driver types.
 */
export interface Statement<P extends unknown[], R = unknown> {
  run(...params: P): { changes: number; lastInsertRowid: number | bigint };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** Prepares a statement: `(sql) => db.prepare(sql)`. */
export type Prepare = (sql: string) => Statement<unknown[]>;

/** The store's prepared statements. */
export interface Statements {
  get: Statement<[string], SessionRow>;
  live: Statement<[string], SessionRow>;
  insert: Statement<[ReturnType<typeof toRow>]>;
  end: Statement<[number, string, string | null, string]>;
  touch: Statement<[number, string, number]>;
  presence: Statement<[number, string, number]>;
  staleExpired: Statement<[number, number], SessionRow>;
  staleIdle: Statement<[number, number], SessionRow>;
  capReplaced: Statement<[string, number]>;
  purgeSessions: Statement<[number]>;
  purgeAudit: Statement<[number]>;
  /** Keeps the newest events: deletes those with an id at or below the one given. */
  capAudit: Statement<[number]>;
  countLive: Statement<[], { n: number }>;
  appendAudit: Statement<[Omit<AuditRow, "id">]>;
  updateDelivery: Statement<[string, string, number]>;
  ping: Statement<[], { ok: number }>;
}

/** Prepares every fixed statement of the store once. */
export function prepareStatements(prepare: Prepare): Statements {
  // Typed per statement, as the driver's own generic `prepare<P, R>` would (an assertion about the SQL).
  const db = { prepare: <P extends unknown[], R = unknown>(sql: string) => prepare(sql) as Statement<P, R> };
  return {
    get: db.prepare<[string], SessionRow>("SELECT * FROM sessions WHERE id = ?"),
    live: db.prepare<[string], SessionRow>(
      "SELECT * FROM sessions WHERE user_id = ? AND ended_at IS NULL ORDER BY created_at, id",
    ),
    insert: db.prepare<[ReturnType<typeof toRow>]>(
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
    capAudit: db.prepare<[number]>("DELETE FROM audit WHERE id <= ?"),
    countLive: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL"),
    appendAudit: db.prepare<[Omit<AuditRow, "id">]>(
      `INSERT INTO audit (kind, at, user_id, session_id, device, node, by_json, delivery, detail)
       VALUES (@kind, @at, @user_id, @session_id, @device, @node, @by_json, @delivery, @detail)`,
    ),
    updateDelivery: db.prepare<[string, string, number]>(
      `UPDATE audit SET delivery = ? WHERE session_id = ?
       AND kind IN (${sqlList(ENDING_KINDS)})
       AND (CASE delivery ${DELIVERY_STATUSES.map((s) => `WHEN '${s}' THEN ${DELIVERY_RANK[s]}`).join(" ")} ELSE -1 END) < ?`,
    ),
    ping: db.prepare<[], { ok: number }>("SELECT 1 AS ok"),
  };
}

/** A statement whose `WHERE` was built for one query, with its parameters (the limit last). */
export interface BuiltQuery {
  sql: string;
  params: (string | number)[];
}

/** Live sessions newest first, of one user or all, after a cursor; one row more than the page. */
export function liveListing(userId: string | undefined, after: LivePosition | null, limit: number): BuiltQuery {
  const where = ["ended_at IS NULL"];
  const params: (string | number)[] = [];
  if (userId !== undefined) {
    where.push("user_id = ?");
    params.push(userId);
  }
  if (after) {
    where.push("(created_at < ? OR (created_at = ? AND id < ?))");
    params.push(after.createdAt, after.createdAt, after.id);
  }
  params.push(limit + 1);
  return {
    sql: `SELECT * FROM sessions WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`,
    params,
  };
}

/** Audit events newest first, filtered by the query's {@link AUDIT_FILTERS}, below an id. */
export function auditListing(query: AuditQuery, below: string | null, limit: number): BuiltQuery {
  const where: string[] = [];
  const params: (string | number)[] = [];
  for (const filter of AUDIT_FILTERS) {
    const value = query[filter.param];
    if (value === undefined) continue;
    where.push(`${AUDIT_COLUMN[filter.field]} ${filter.op} ?`);
    params.push(value);
  }
  if (below !== null) {
    where.push("id < ?");
    params.push(Number(below) || 0);
  }
  params.push(limit);
  return {
    sql: `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
    params,
  };
}

/** A list of protocol constants (letters and underscores only) as a SQL list of literals. */
function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}
