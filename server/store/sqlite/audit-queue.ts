/**
 * The SQLite store's batched audit writes: queued in call order and committed together in
 * one transaction on the next turn of the event loop (or before any audit read), so a login
 * commits once on its path (the claim), not three times, and a kick's notice is never behind
 * an audit commit. Each batch also applies the audit cap (`auditMaxLength`).
 *
 * @module
 */

import type Database from "better-sqlite3";
import { toStoreError } from "../shared/errors.js";
import type { Statements } from "./statements.js";

/** An audit write waiting for the next batch: an append returns its id, an update nothing. */
export type AuditWrite = () => string | undefined;

interface Queued {
  run: AuditWrite;
  resolve: (id: string | undefined) => void;
  reject: (error: unknown) => void;
}

/** Audit writes waiting for their batch. */
export class AuditQueue {
  readonly #commit: (writes: readonly Queued[]) => (string | undefined)[];
  #queued: Queued[] = [];
  #timer: NodeJS.Immediate | null = null;

  /** `maxLength`: the newest events kept; older ones are deleted in each batch that appends. */
  constructor(db: Database.Database, stmt: Statements, maxLength: number) {
    this.#commit = db.transaction((writes: readonly Queued[]) => {
      const results = writes.map((w) => w.run());
      const newest = results.findLast((id) => id !== undefined);
      if (newest !== undefined) stmt.capAudit.run(Number(newest) - maxLength);
      return results;
    }).immediate;
  }

  /** Queues a write for the next batch; resolves when it is committed. */
  push(run: AuditWrite): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ run, resolve, reject });
      this.#timer ??= setImmediate(() => this.flush());
    });
  }

  /** Commits the queued writes now, in one transaction, in the order they were made. */
  flush(): void {
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = null;
    const writes = this.#queued;
    if (writes.length === 0) return;
    this.#queued = [];
    let results: (string | undefined)[];
    try {
      results = this.#commit(writes);
    } catch (error) {
      const mapped = toStoreError(error);
      for (const w of writes) w.reject(mapped);
      return;
    }
    writes.forEach((w, i) => {
      w.resolve(results[i]);
    });
  }
}
