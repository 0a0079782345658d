/**
 * The memory store's outbox: one entry per receiver and ended session, written in the same
 * synchronous step that ends the session.
 *
 * @module
 */

import { STORE_DEFAULTS } from "../defaults.js";
import { clampLimit } from "../shared/paging.js";
import type { DeliveryFailure, EventOutbox, OutboxEvent, OutboxQuery, SessionRecord } from "../types.js";

/** An event with its lease. */
interface Entry {
  event: OutboxEvent;
  leaseOwner: string | null;
  leaseUntil: number;
}

/** The outbox of a {@link MemoryStore}; `open` throws `store_unavailable` after the store closed. */
export class MemoryOutbox implements EventOutbox {
  readonly receivers: readonly string[];
  /** Oldest first (ids increase). */
  readonly #entries = new Map<string, Entry>();
  readonly #open: () => void;
  #seq = 0;

  constructor(receivers: readonly string[], open: () => void) {
    this.receivers = [...receivers];
    this.#open = open;
  }

  /** Writes the events of a session that has just ended. */
  recordEnd(ended: SessionRecord): void {
    if (ended.ended === null) return;
    for (const receiver of this.receivers) {
      const id = String(++this.#seq);
      const event: OutboxEvent = {
        id,
        receiver,
        sessionId: ended.id,
        userId: ended.userId,
        end: structuredClone(ended.ended),
        attempts: 0,
        nextAt: ended.ended.at,
        state: "pending",
        lastError: null,
      };
      this.#entries.set(id, { event, leaseOwner: null, leaseUntil: 0 });
    }
  }

  async lease(owner: string, now: number, until: number): Promise<OutboxEvent[]> {
    this.#open();
    const leased: OutboxEvent[] = [];
    for (const receiver of this.receivers) {
      const head = this.#head(receiver);
      if (!head || head.event.nextAt > now || head.leaseUntil > now) continue;
      head.leaseOwner = owner;
      head.leaseUntil = until;
      leased.push(structuredClone(head.event));
    }
    return leased;
  }

  async delivered(id: string, owner: string): Promise<boolean> {
    this.#open();
    const entry = this.#entries.get(id);
    if (!entry || entry.leaseOwner !== owner) return false;
    this.#entries.delete(id);
    return true;
  }

  async failed(id: string, owner: string, failure: DeliveryFailure): Promise<boolean> {
    this.#open();
    const entry = this.#entries.get(id);
    if (!entry || entry.leaseOwner !== owner) return false;
    entry.event.attempts++;
    entry.event.nextAt = failure.nextAt;
    entry.event.state = failure.dead ? "dead" : "pending";
    entry.event.lastError = failure.error;
    entry.leaseOwner = null;
    entry.leaseUntil = 0;
    return true;
  }

  async list(query: OutboxQuery): Promise<OutboxEvent[]> {
    this.#open();
    const limit = clampLimit(query.limit, STORE_DEFAULTS.page.audit);
    const out: OutboxEvent[] = [];
    for (const { event } of this.#entries.values()) {
      if (out.length >= limit) break;
      if (query.state !== undefined && event.state !== query.state) continue;
      if (query.receiver !== undefined && event.receiver !== query.receiver) continue;
      out.push(structuredClone(event));
    }
    return out;
  }

  async retry(id: string, now: number): Promise<boolean> {
    this.#open();
    const event = this.#entries.get(id)?.event;
    if (event?.state !== "dead") return false;
    Object.assign(event, { state: "pending", attempts: 0, nextAt: now, lastError: null });
    return true;
  }

  async depth(): Promise<number> {
    this.#open();
    let n = 0;
    for (const { event } of this.#entries.values()) if (event.state === "pending") n++;
    return n;
  }

  /** Forgets dead events of sessions that ended before `before`. */
  purgeDead(before: number): void {
    for (const [id, { event }] of this.#entries) {
      if (event.state === "dead" && event.end.at < before) this.#entries.delete(id);
    }
  }

  #head(receiver: string): Entry | undefined {
    for (const entry of this.#entries.values()) {
      if (entry.event.receiver === receiver && entry.event.state === "pending") return entry;
    }
    return undefined;
  }
}
