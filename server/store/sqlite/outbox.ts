/**
 * The SQLite store's outbox: one `outbox` row per receiver and ended session, inserted in the
 * transaction that ends the session.
 *
 * @module
 */

import type { RevocationReason } from "../../../protocol/index.js";
import { STORE_DEFAULTS } from "../defaults.js";
import { clampLimit } from "../shared/paging.js";
import type { DeliveryFailure, EndedBy, EventOutbox, OutboxEvent, OutboxQuery, OutboxState } from "../types.js";
import type { Immediate } from "./audit-queue.js";
import type { Statement } from "./statements.js";

/** Prepares a statement (`(sql) => db.prepare(sql)`), typed by its parameters and row. */
export type PrepareTyped = <P extends unknown[], R = unknown>(sql: string) => Statement<P, R>;

/** A row of `outbox`. */
interface OutboxRow {
  id: number;
  receiver: string;
  session_id: string;
  user_id: string;
  ended_at: number;
  end_reason: string;
  ended_by: string | null;
  attempts: number;
  next_at: number;
  state: string;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
}

function fromOutboxRow(r: OutboxRow): OutboxEvent {
  return {
    id: String(r.id),
    receiver: r.receiver,
    sessionId: r.session_id,
    userId: r.user_id,
    end: {
      at: r.ended_at,
      reason: r.end_reason as RevocationReason,
      by: r.ended_by ? (JSON.parse(r.ended_by) as EndedBy) : null,
    },
    attempts: r.attempts,
    nextAt: r.next_at,
    state: r.state as OutboxState,
    lastError: r.last_error,
  };
}

/**
 * The outbox of a {@link SqliteStore}: `prepare` and `immediate` are the store's database's
 * (`db.prepare`, `db.transaction(fn).immediate`); `run` maps closed-database and lock errors as
 * the store does.
 */
export class SqliteOutbox implements EventOutbox {
  readonly receivers: readonly string[];
  readonly #prepare: PrepareTyped;
  readonly #run: <T>(operation: () => T) => T;
  readonly #record: Statement<[string, string]>;
  readonly #head: Statement<[string], OutboxRow>;
  readonly #take: Statement<[string, number, number]>;
  readonly #delete: Statement<[number, string]>;
  readonly #fail: Statement<[number, string, string, number, string]>;
  readonly #retry: Statement<[number, number]>;
  readonly #depth: Statement<[], { n: number }>;
  readonly #purgeDead: Statement<[number]>;
  readonly #leaseTx: (owner: string, now: number, until: number) => OutboxEvent[];

  constructor(
    prepare: PrepareTyped,
    immediate: Immediate,
    receivers: readonly string[],
    run: <T>(operation: () => T) => T,
  ) {
    this.receivers = [...receivers];
    this.#prepare = prepare;
    this.#run = run;
    const db = { prepare };
    this.#record = db.prepare(
      `INSERT INTO outbox (receiver, session_id, user_id, ended_at, end_reason, ended_by, next_at)
       SELECT ?, id, user_id, ended_at, end_reason, ended_by, ended_at FROM sessions WHERE id = ? AND ended_at IS NOT NULL`,
    );
    this.#head = db.prepare(`SELECT * FROM outbox WHERE receiver = ? AND state = 'pending' ORDER BY id LIMIT 1`);
    this.#take = db.prepare(`UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?`);
    this.#delete = db.prepare(`DELETE FROM outbox WHERE id = ? AND lease_owner = ?`);
    this.#fail = db.prepare(
      `UPDATE outbox SET attempts = attempts + 1, next_at = ?, state = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND lease_owner = ?`,
    );
    this.#retry = db.prepare(
      `UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?, last_error = NULL WHERE id = ? AND state = 'dead'`,
    );
    this.#depth = db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'`);
    this.#purgeDead = db.prepare(`DELETE FROM outbox WHERE state = 'dead' AND ended_at < ?`);
    this.#leaseTx = immediate((owner: string, now: number, until: number): OutboxEvent[] => {
      const leased: OutboxEvent[] = [];
      for (const receiver of this.receivers) {
        const head = this.#head.get(receiver);
        if (!head || head.next_at > now) continue;
        if (head.lease_until !== null && head.lease_until > now) continue; // in flight, here or on another node
        this.#take.run(owner, until, head.id);
        leased.push(fromOutboxRow(head));
      }
      return leased;
    });
  }

  /** Writes the events of a session that has just ended (call inside the ending transaction). */
  recordEnd(sessionId: string): void {
    for (const receiver of this.receivers) this.#record.run(receiver, sessionId);
  }

  async lease(owner: string, now: number, until: number): Promise<OutboxEvent[]> {
    return this.#run(() => this.#leaseTx(owner, now, until));
  }

  async delivered(id: string, owner: string): Promise<boolean> {
    return this.#run(() => this.#delete.run(Number(id), owner).changes === 1);
  }

  async failed(id: string, owner: string, failure: DeliveryFailure): Promise<boolean> {
    return this.#run(
      () =>
        this.#fail.run(failure.nextAt, failure.dead ? "dead" : "pending", failure.error, Number(id), owner).changes ===
        1,
    );
  }

  async list(query: OutboxQuery): Promise<OutboxEvent[]> {
    return this.#run(() => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.state !== undefined) {
        where.push("state = ?");
        params.push(query.state);
      }
      if (query.receiver !== undefined) {
        where.push("receiver = ?");
        params.push(query.receiver);
      }
      params.push(clampLimit(query.limit, STORE_DEFAULTS.page.audit));
      const sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id LIMIT ?`;
      return this.#prepare<(string | number)[], OutboxRow>(sql)
        .all(...params)
        .map(fromOutboxRow);
    });
  }

  async retry(id: string, now: number): Promise<boolean> {
    const n = Number(id);
    if (!Number.isSafeInteger(n)) return false;
    return this.#run(() => this.#retry.run(now, n).changes === 1);
  }

  /** Forgets dead events of sessions that ended before `before` (inside the store's purge). */
  purgeDead(before: number): void {
    this.#purgeDead.run(before);
  }

  async depth(): Promise<number> {
    return this.#run(() => this.#depth.get()?.n ?? 0);
  }
}
