/**
 * The admin view's audit trail as data: merging pages and live events, and applying
 * delivery updates forward only. No DOM here, so it can be tested on its own.
 */

import {
  type AuditEventView,
  DELIVERY_RANK,
  type DeliveryStatus,
  type DeliveryUpdate,
  isEndingKind,
} from "solo-session/protocol";

/** The live admin view; `destroy()` closes its feed and removes it. */
export interface AdminView {
  destroy(): void;
}

/** The first page of live sessions the view starts with. */
export const FIRST_PAGE = 50;

/** The further of two delivery statuses: a notice never moves backwards. */
export function furthest(a: DeliveryStatus, b: DeliveryStatus): DeliveryStatus;
export function furthest(a: DeliveryStatus | null, b: DeliveryStatus | null): DeliveryStatus | null;
export function furthest(a: DeliveryStatus | null, b: DeliveryStatus | null): DeliveryStatus | null {
  if (a === null) return b;
  if (b === null) return a;
  return DELIVERY_RANK[b] > DELIVERY_RANK[a] ? b : a;
}

const ids = new Intl.Collator("en", { numeric: true });

/** Newest first: event ids increase (SQLite row ids, Redis stream ids), compared as numbers. */
export function newestFirst(a: AuditEventView, b: AuditEventView): number {
  return ids.compare(b.id, a.id);
}

/**
 * The audit trail the view shows: events newest first, no duplicates, and the delivery
 * updates that arrived before their event (the feed and a page fetch can cross).
 */
export class Trail {
  #events: AuditEventView[] = [];
  readonly #byId = new Map<string, AuditEventView>();
  /** Delivery updates for sessions whose ending event is not (yet) in the list. */
  readonly #early = new Map<string, DeliveryStatus>();
  #limit: number;

  /** @param limit the most events kept; the oldest are dropped beyond it. */
  constructor(limit = 500) {
    this.#limit = limit;
  }

  /** Events, newest first. */
  get events(): readonly AuditEventView[] {
    return this.#events;
  }

  /**
   * Adds events (a page from the API or one from the feed). A known id is merged, keeping
   * the further delivery status. Returns the ids that were new. `older`: a page the person
   * asked for, which raises the limit instead of being dropped.
   */
  add(events: readonly AuditEventView[], older = false): string[] {
    if (older) this.#limit += events.length;
    const added: string[] = [];
    for (const incoming of events) {
      const event = { ...incoming };
      if (event.sessionId !== null && isEndingKind(event.kind)) {
        const early = this.#early.get(event.sessionId);
        if (early !== undefined) {
          event.delivery = furthest(event.delivery, early);
          this.#early.delete(event.sessionId);
        }
      }
      const known = this.#byId.get(event.id);
      if (known) {
        known.delivery = furthest(known.delivery, event.delivery);
        continue;
      }
      this.#byId.set(event.id, event);
      this.#events.push(event);
      added.push(event.id);
    }
    if (added.length > 0) {
      this.#events.sort(newestFirst);
      for (const dropped of this.#events.splice(this.#limit)) this.#byId.delete(dropped.id);
    }
    return added.filter((id) => this.#byId.has(id));
  }

  /**
   * Applies an `admin:delivery` update to the ending event of its session, forward only.
   * Returns the id of the event that changed, or null (unknown yet, or not forward).
   */
  deliver(update: DeliveryUpdate): string | null {
    const event = this.#events.find((e) => e.sessionId === update.sessionId && isEndingKind(e.kind));
    if (!event) {
      const early = this.#early.get(update.sessionId);
      this.#early.delete(update.sessionId);
      this.#early.set(update.sessionId, early === undefined ? update.status : furthest(early, update.status));
      // Updates for sessions whose ending event is older than the loaded pages: keep the latest few.
      for (const stale of this.#early.keys()) {
        if (this.#early.size <= this.#limit) break;
        this.#early.delete(stale);
      }
      return null;
    }
    const next = furthest(event.delivery, update.status);
    if (next === event.delivery) return null;
    event.delivery = next;
    return event.id;
  }
}
