/**
 * The PostgreSQL store's batched audit writes: appends and delivery updates made during one
 * turn of the event loop go out together, the appends in one `INSERT` (which also applies the
 * audit cap) and the updates in one `UPDATE`, so that a login costs the database one audit
 * commit however many events it records, and concurrent logins share theirs. Batches go out
 * one after the other, in the order they were made; a read of the audit trail waits for the
 * writes made before it.
 *
 * @module
 */

import { DELIVERY_RANK } from "../../../protocol/index.js";
import { isFurther } from "../shared/audit.js";
import type { DeliveryStatus, NewAuditEvent } from "../types.js";
import type { PgRunner } from "./connection.js";
import { toAuditRow } from "./schema.js";
import type { Statements } from "./statements.js";

interface Append {
  event: NewAuditEvent;
  resolve: (id: string) => void;
  reject: (error: unknown) => void;
}

interface Update {
  status: DeliveryStatus;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** Audit writes waiting for their batch. */
export class PgAuditQueue {
  readonly #db: PgRunner;
  readonly #sql: Statements;
  readonly #maxLength: number;
  #appends: Append[] = [];
  #updates = new Map<string, Update>();
  #timer: NodeJS.Immediate | null = null;
  /** The batch being written, if any: the next waits for it. */
  #writing: Promise<void> = Promise.resolve();

  constructor(db: PgRunner, sql: Statements, maxLength: number) {
    this.#db = db;
    this.#sql = sql;
    this.#maxLength = maxLength;
  }

  /** Queues an event; resolves with its id once written. */
  append(event: NewAuditEvent): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#appends.push({ event, resolve, reject });
      this.#schedule();
    });
  }

  /** Queues a delivery update (two for one session in one batch keep the further); resolves once written. */
  updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    return new Promise((resolve, reject) => {
      const queued = this.#updates.get(sessionId);
      if (queued) {
        if (isFurther(status, queued.status)) queued.status = status;
        queued.waiters.push({ resolve, reject });
      } else {
        this.#updates.set(sessionId, { status, waiters: [{ resolve, reject }] });
      }
      this.#schedule();
    });
  }

  /** Writes what is queued now; resolves when every write made before the call is in (or failed). */
  flush(): Promise<void> {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    const appends = this.#appends;
    const updates = this.#updates;
    this.#appends = [];
    this.#updates = new Map();
    this.#writing = this.#writing.then(() => this.#write(appends, updates));
    return this.#writing;
  }

  #schedule(): void {
    this.#timer ??= setImmediate(() => void this.flush());
  }

  /** One batch: the appends, then the updates (which may concern the events just appended). Never rejects. */
  async #write(appends: Append[], updates: Map<string, Update>): Promise<void> {
    if (appends.length > 0) {
      try {
        const rows = await this.#db.query<{ id: string }>(this.#sql.appendAudit, [
          JSON.stringify(appends.map((a) => toAuditRow(a.event))),
          this.#maxLength,
        ]);
        appends.forEach((a, i) => {
          const row = rows[i];
          if (row) a.resolve(String(row.id));
          else a.reject(new Error("PostgresStore: the audit insert returned fewer ids than events"));
        });
      } catch (error) {
        for (const a of appends) a.reject(error);
      }
    }
    if (updates.size > 0) {
      const entries = [...updates.entries()];
      try {
        await this.#db.query(this.#sql.updateDelivery, [
          entries.map(([sessionId]) => sessionId),
          entries.map(([, u]) => u.status),
          entries.map(([, u]) => DELIVERY_RANK[u.status]),
        ]);
        for (const [, u] of entries) for (const w of u.waiters) w.resolve();
      } catch (error) {
        for (const [, u] of entries) for (const w of u.waiters) w.reject(error);
      }
    }
  }
}
