/**
 * The SQLite store's batched audit writes: queued in call order and committed together in
 * one transaction on the next turn of the event loop (or before any audit read), so a login
 * commits once on its path (the claim), not three times, and a kick's notice is never behind
 * an audit commit. Each batch also applies the audit cap (`auditMaxLength`).
 *
 * @module
 */

import { toStoreError } from "../shared/errors.js";

/** An audit write waiting for the next batch: an append returns its id, an update nothing. */
export type AuditWrite = () => string | undefined;

/** Wraps a function so that each call runs in one `BEGIN IMMEDIATE` transaction. */
export type Immediate = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A) => R;

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

  /**
   * `immediate` runs a function in one `BEGIN IMMEDIATE` transaction (`(fn) =>
   * db.transaction(fn).immediate`); `deleteUpTo` deletes the events with an id at or below
   * the one given, so that each batch that appends keeps the newest `maxLength` events.
   */
  constructor(immediate: Immediate, deleteUpTo: (id: number) => void, maxLength: number) {
    this.#commit = immediate((writes: readonly Queued[]) => {
      const results = writes.map((w) => w.run());
      const newest = results.findLast((id) => id !== undefined);
      if (newest !== undefined) deleteUpTo(Number(newest) - maxLength);
      return results;
    });
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
