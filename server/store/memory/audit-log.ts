/**
 * The memory store's audit trail: an array in append order, capped at `auditMaxLength`
 * events (the oldest are dropped on append).
 *
 * @module
 */

import { isEndingKind } from "../../../protocol/index.js";
import { STORE_DEFAULTS } from "../defaults.js";
import { isFurther, matchesAudit } from "../shared/audit.js";
import { auditBefore, clampLimit } from "../shared/paging.js";
import type { AuditEvent, AuditQuery, DeliveryStatus, NewAuditEvent } from "../types.js";

/** Events in append order; ids are a zero-padded sequence, so they compare as strings. */
export class MemoryAuditLog {
  readonly #events: AuditEvent[] = [];
  readonly #maxLength: number;
  #seq = 0;

  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  append(event: NewAuditEvent): string {
    const id = String(++this.#seq).padStart(12, "0");
    this.#events.push({ ...event, id });
    if (this.#events.length > this.#maxLength) this.#events.splice(0, this.#events.length - this.#maxLength);
    return id;
  }

  updateDelivery(sessionId: string, status: DeliveryStatus): void {
    for (const event of this.#events) {
      if (event.sessionId === sessionId && isEndingKind(event.kind) && isFurther(status, event.delivery)) {
        event.delivery = status;
      }
    }
  }

  query(query: AuditQuery): AuditEvent[] {
    const limit = clampLimit(query.limit, STORE_DEFAULTS.page.audit);
    const below = auditBefore(query.before);
    const out: AuditEvent[] = [];
    for (let i = this.#events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.#events[i] as AuditEvent;
      if ((below === null || e.id < below) && matchesAudit(e, query)) out.push(structuredClone(e));
    }
    return out;
  }

  /** Deletes the events older than `before` (they are in time order). */
  purge(before: number): void {
    const keep = this.#events.findIndex((e) => e.at >= before);
    this.#events.splice(0, keep === -1 ? this.#events.length : keep);
  }
}
