/**
 * The ends table as the nodes read it: every session ended anywhere (by a claim, `end` or
 * `endAll`), written by the transaction that ended it, announced on the ends channel when that
 * transaction commits. The scale-out (`server/realtime/postgres/`) reads it through this.
 *
 * @module
 */

import type { SessionEnd } from "../types.js";
import type { PgRunner } from "./connection.js";
import type { PgNames } from "./schema.js";
import type { Statements } from "./statements.js";

/** One row of the ends table. */
export interface EndEntry {
  /** Increasing in the order the rows were inserted (not necessarily the order their transactions committed). */
  id: number;
  sessionId: string;
  ended: SessionEnd;
}

/** Reads the ends table of one store. */
export class PgEnds {
  readonly #db: PgRunner;
  readonly #sql: Statements;
  /** The channel the ending transactions notify (`NOTIFY` on commit). */
  readonly channel: string;

  constructor(db: PgRunner, sql: Statements, names: PgNames) {
    this.#db = db;
    this.#sql = sql;
    this.channel = names.endsChannel;
  }

  /** The rows after `after` and those of `missing` (ids skipped by an earlier read), oldest first, `limit` at most past `after`. */
  async read(after: number, missing: readonly number[], limit: number): Promise<EndEntry[]> {
    const rows = await this.#db.query<{ id: string; session_id: string; ended: unknown }>(this.#sql.readEnds, [
      after,
      missing,
      limit,
    ]);
    return rows.map((r) => ({
      id: Number(r.id),
      sessionId: r.session_id,
      ended: (typeof r.ended === "string" ? JSON.parse(r.ended) : r.ended) as SessionEnd,
    }));
  }

  /** The newest id (0 when the table is empty): where a node that just started begins. */
  async newest(): Promise<number> {
    const [row] = await this.#db.query<{ id: string }>(this.#sql.newestEnd);
    return Number(row?.id ?? 0);
  }

  /** The oldest id still kept, or null when the table is empty (older ones were pruned). */
  async oldest(): Promise<number | null> {
    const [row] = await this.#db.query<{ id: string | null }>(this.#sql.oldestEnd);
    return row?.id === null || row?.id === undefined ? null : Number(row.id);
  }
}
