/**
 * The ends reader: every node reads the store's ends table from the last id it read, whenever
 * the listening connection hears a notification, after it reconnects, and on a short timer,
 * and tells its sockets of every session that ended anywhere.
 *
 * Ids come from a sequence, in the order rows were inserted, while transactions commit in
 * their own order: a read can see id 12 committed while id 11's transaction is still open.
 * So the reader remembers the ids it skipped and asks for them again on each read, until they
 * appear or {@link GAP_HORIZON} passes (the transaction rolled back: every transaction of the
 * store ends within its query timeouts, far sooner). Skipped ids already pruned from the table
 * mean this node fell behind: its sockets are re-checked against the store instead.
 *
 * @module
 */

import type { Logger } from "pino";
import type { EndEntry, PgEnds } from "../../store/postgres/ends.js";

/** Rows read per query; a full batch is followed by the next at once. */
const READ_COUNT = 500;
/** A skipped id still missing after this long belongs to a transaction that rolled back, in ms. */
export const GAP_HORIZON = 60_000;
/** Skipped ids remembered at most; a larger gap counts as falling behind. */
const MAX_MISSING = 10_000;

/** What the reader does with what it reads. */
export interface EndsFollower {
  /** A session ended somewhere (this node's own ends included: a repeat is harmless). */
  ended(entry: EndEntry): void;
  /** Ends this node never read were pruned: its sockets need a re-check. */
  behind(): void;
}

/** Reads the ends table for one node. */
export class EndsReader {
  readonly #ends: PgEnds;
  readonly #logger: Logger;
  #follower: EndsFollower | null = null;
  /** The highest id read. */
  #last: number;
  /** Ids skipped by a read (their transaction had not committed yet), with when they were first missed. */
  readonly #missing = new Map<number, number>();
  #reading: Promise<void> | null = null;
  #again = false;
  #ok = true;
  #closed = false;

  private constructor(ends: PgEnds, last: number, logger: Logger) {
    this.#ends = ends;
    this.#last = last;
    this.#logger = logger;
  }

  /**
   * Starts after the newest row: this node has no sockets yet, nothing older concerns it.
   * Rejects with `store_unavailable` when the database cannot be read.
   */
  static async open(ends: PgEnds, logger: Logger): Promise<EndsReader> {
    return new EndsReader(ends, await ends.newest(), logger);
  }

  /** Starts passing what it reads to `follower` (reads before this do nothing). */
  start(follower: EndsFollower): void {
    this.#follower = follower;
  }

  /** True when the last read succeeded. */
  get ok(): boolean {
    return this.#ok;
  }

  /**
   * Reads everything new now (reads never overlap; a request during a read runs one more
   * after it). Resolves when done; never rejects.
   */
  read(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return this.#reading;
    }
    if (this.#closed || !this.#follower) return Promise.resolve();
    this.#reading = (async () => {
      try {
        do {
          this.#again = false;
          await this.#readAll();
        } while (this.#again && !this.#closed);
        this.#ok = true;
      } catch (error) {
        if (this.#ok)
          this.#logger.warn({ err: error }, "reading the ends table failed; retrying on the next notice or tick");
        this.#ok = false;
      } finally {
        this.#reading = null;
      }
    })();
    return this.#reading;
  }

  /** Stops reading; resolves when a read in flight is done. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#reading;
  }

  async #readAll(): Promise<void> {
    for (;;) {
      const entries = await this.#ends.read(this.#last, [...this.#missing.keys()], READ_COUNT);
      let fresh = 0;
      let skipped: number[] = [];
      let behind = false;
      for (const entry of entries) {
        if (this.#missing.delete(entry.id)) {
          this.#deliver(entry);
          continue;
        }
        if (entry.id <= this.#last) continue;
        fresh++;
        const gap = entry.id - this.#last - 1;
        if (gap > 0 && this.#missing.size + skipped.length + gap > MAX_MISSING) behind = true;
        else for (let id = this.#last + 1; id < entry.id; id++) skipped.push(id);
        this.#last = entry.id;
        this.#deliver(entry);
      }
      if (skipped.length > 0) {
        // Ids below the oldest row kept were pruned before this node read them.
        const oldest = await this.#ends.oldest();
        const pruned = skipped.filter((id) => oldest === null || id < oldest);
        if (pruned.length > 0) {
          behind = true;
          skipped = skipped.filter((id) => oldest !== null && id >= oldest);
        }
        const now = performance.now();
        for (const id of skipped) this.#missing.set(id, now);
      }
      this.#expire();
      if (behind) this.#follower?.behind();
      if (fresh < READ_COUNT) return;
    }
  }

  #deliver(entry: EndEntry): void {
    try {
      this.#follower?.ended(entry);
    } catch (error) {
      this.#logger.error({ err: error }, "applying an ended session failed");
    }
  }

  /** Forgets skipped ids that never appeared within the horizon (their transactions rolled back). */
  #expire(): void {
    const before = performance.now() - GAP_HORIZON;
    for (const [id, since] of this.#missing) if (since < before) this.#missing.delete(id);
  }
}
