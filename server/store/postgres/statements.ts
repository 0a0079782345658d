/**
 * The SQL of the PostgreSQL store, built once per schema and prefix: the fixed statements, and
 * the two listings whose `WHERE` depends on the query. Lists from the protocol (ending kinds,
 * delivery ranks) and the shared audit filters are turned into SQL here, from their one
 * definition, as the SQLite store does.
 *
 * Every statement that ends sessions also inserts them into the ends table and calls
 * `pg_notify` on the ends channel, in the same transaction: PostgreSQL delivers the
 * notification only when (and if) that transaction commits.
 *
 * @module
 */

import { DELIVERY_RANK, DELIVERY_STATUSES, ENDING_KINDS } from "../../../protocol/index.js";
import { AUDIT_FILTERS } from "../shared/audit.js";
import type { LivePosition } from "../shared/paging.js";
import type { AuditQuery } from "../types.js";
import { AUDIT_COLUMN, type PgNames } from "./schema.js";

/** A statement whose `WHERE` was built for one query, with its parameters. */
export interface BuiltQuery {
  text: string;
  values: (string | number)[];
}

/** A list of protocol constants (letters and underscores only) as a SQL list of literals. */
function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}

/** The rank of a `delivery` column value, as SQL (unknown and NULL rank below every state). */
function deliveryRank(column: string): string {
  return `(CASE ${column} ${DELIVERY_STATUSES.map((s) => `WHEN '${s}' THEN ${DELIVERY_RANK[s]}`).join(" ")} ELSE -1 END)`;
}

/** Builds every fixed statement of the store for its schema and prefix. */
export function statements(n: PgNames) {
  const S = n.table("sessions");
  const A = n.table("audit");
  const E = n.table("ends");
  const columns = "id, user_id, created_at, last_seen_at, expires_at, device_name, browser, os, ip, presence_at";
  /** Ends the rows of CTE `ended` and announces them: `$ended` is the end as JSON, `$channel` the channel. */
  const announce = (ended: string, channel: string) => `
    announced AS (INSERT INTO ${E} (session_id, ended) SELECT id, ${ended}::jsonb FROM ended RETURNING id)
    SELECT ended.*, pg_notify(${channel}, '') AS notified FROM ended`;
  return {
    get: `SELECT * FROM ${S} WHERE id = $1`,
    userOf: `SELECT user_id FROM ${S} WHERE id = $1`,
    live: `SELECT * FROM ${S} WHERE user_id = $1 AND ended_at IS NULL ORDER BY created_at, id`,
    /**
     * The write of an admitted claim: $1 the evicted ids, $2 their end time, $3 `ended_by`,
     * $4 the whole end as JSON (for the ends table), $5 the channel, $6.. the new session.
     */
    claim: `
    WITH ended AS (
      UPDATE ${S} SET ended_at = $2, end_reason = 'replaced', ended_by = $3::jsonb
      WHERE id = ANY($1::text[]) AND ended_at IS NULL RETURNING *
    ),
    inserted AS (
      INSERT INTO ${S} (${columns}) VALUES ($6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id
    ),${announce("$4", "$5")}`,
    /** Deletes the user's `replaced` tombstones beyond the newest $2 (by end time). */
    capReplaced: `
    DELETE FROM ${S} WHERE id IN (
      SELECT id FROM ${S} WHERE user_id = $1 AND end_reason = 'replaced'
      ORDER BY ended_at DESC, created_at DESC OFFSET $2)`,
    /** Ends one live session: $1 id, $2 end time, $3 reason, $4 `ended_by`, $5 the end as JSON, $6 the channel. */
    end: `
    WITH ended AS (
      UPDATE ${S} SET ended_at = $2, end_reason = $3, ended_by = $4::jsonb
      WHERE id = $1 AND ended_at IS NULL RETURNING *
    ),${announce("$5", "$6")}`,
    /** Ends every live session of user $1; the rest as in `end`. */
    endAll: `
    WITH ended AS (
      UPDATE ${S} SET ended_at = $2, end_reason = $3, ended_by = $4::jsonb
      WHERE user_id = $1 AND ended_at IS NULL RETURNING *
    ),${announce("$5", "$6")}`,
    touch: `UPDATE ${S} SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL AND last_seen_at < $1`,
    presence: `
    UPDATE ${S} SET presence_at = $1
    WHERE id = ANY($2::text[]) AND ended_at IS NULL AND (presence_at IS NULL OR presence_at < $1)`,
    stale: `
    SELECT * FROM ${S}
    WHERE ended_at IS NULL AND (expires_at <= $1 OR last_seen_at <= $2) LIMIT $3`,
    purgeSessions: `DELETE FROM ${S} WHERE ended_at IS NOT NULL AND expires_at < $1`,
    purgeAudit: `DELETE FROM ${A} WHERE at < $1`,
    /** Keeps the newest $1 ends and none older than $2 ms. */
    pruneEnds: `
    DELETE FROM ${E}
    WHERE id <= (SELECT max(id) FROM ${E}) - $1 OR created_at < now() - make_interval(secs => $2::double precision / 1000)`,
    countLive: `SELECT count(*)::int AS n FROM ${S} WHERE ended_at IS NULL`,
    /**
     * Appends a batch of audit events ($1: a JSON array of rows) and keeps the newest $2 events;
     * answers the new ids in increasing order, which is the order of the batch.
     */
    appendAudit: `
    WITH inserted AS (
      INSERT INTO ${A} (kind, at, user_id, session_id, device, node, by_json, delivery, detail)
      SELECT kind, at, user_id, session_id, device, node, by_json, delivery, detail
      FROM jsonb_to_recordset($1::jsonb) AS r(
        kind text, at bigint, user_id text, session_id text, device jsonb,
        node text, by_json jsonb, delivery text, detail text)
      RETURNING id
    ),
    capped AS (DELETE FROM ${A} WHERE id <= (SELECT max(id) FROM inserted) - $2)
    SELECT id FROM inserted ORDER BY id`,
    /** Moves forward the delivery of the ending events of sessions $1 to states $2 (ranks $3), one per session. */
    updateDelivery: `
    UPDATE ${A} AS a SET delivery = u.status
    FROM unnest($1::text[], $2::text[], $3::int[]) AS u(session_id, status, rank)
    WHERE a.session_id = u.session_id AND a.kind IN (${sqlList(ENDING_KINDS)})
      AND ${deliveryRank("a.delivery")} < u.rank`,
    ping: "SELECT 1",
    /** The ends after $1 and those among $2 (ids missing from an earlier read), oldest first, $3 at most. */
    readEnds: `
    SELECT id, session_id, ended FROM ${E} WHERE id = ANY($2::bigint[])
    UNION ALL
    (SELECT id, session_id, ended FROM ${E} WHERE id > $1 ORDER BY id LIMIT $3)
    ORDER BY id`,
    newestEnd: `SELECT coalesce(max(id), 0) AS id FROM ${E}`,
    oldestEnd: `SELECT min(id) AS id FROM ${E}`,
  };
}

/** The statements of one store. */
export type Statements = ReturnType<typeof statements>;

/** Live sessions newest first, of one user or all, after a cursor; one row more than the page. */
export function liveListing(
  n: PgNames,
  userId: string | undefined,
  after: LivePosition | null,
  limit: number,
): BuiltQuery {
  const where = ["ended_at IS NULL"];
  const values: (string | number)[] = [];
  if (userId !== undefined) {
    values.push(userId);
    where.push(`user_id = $${values.length}`);
  }
  if (after) {
    values.push(after.createdAt, after.id);
    where.push(`(created_at, id) < ($${values.length - 1}, $${values.length})`);
  }
  values.push(limit + 1);
  return {
    text: `SELECT * FROM ${n.table("sessions")} WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT $${values.length}`,
    values,
  };
}

/** Audit events newest first, filtered by the query's {@link AUDIT_FILTERS}, below an id. */
export function auditListing(n: PgNames, query: AuditQuery, below: string | null, limit: number): BuiltQuery {
  const where: string[] = [];
  const values: (string | number)[] = [];
  for (const filter of AUDIT_FILTERS) {
    const value = query[filter.param];
    if (value === undefined) continue;
    values.push(value);
    where.push(`${AUDIT_COLUMN[filter.field]} ${filter.op} $${values.length}`);
  }
  if (below !== null) {
    values.push(below);
    where.push(`id < $${values.length}::bigint`);
  }
  values.push(limit);
  return {
    text: `SELECT * FROM ${n.table("audit")} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT $${values.length}`,
    values,
  };
}
