/**
 * The audit rules every store applies identically: which events a query selects, and how a
 * notice's delivery state moves (forward only, by the protocol's `DELIVERY_RANK`).
 *
 * @module
 */

import { DELIVERY_RANK, DELIVERY_STATUSES } from "../../../protocol/index.js";
import type { AuditEvent, AuditQuery, DeliveryStatus } from "../types.js";

/** How a filter compares the event's field with the query's value. */
export type AuditFilterOp = "=" | ">=" | "<";

/**
 * The filters of an audit query, written once: each query field, the event field it tests,
 * and how. Memory and Redis test events with {@link matchesAudit}; SQLite turns the same list
 * into its `WHERE`. (`before` is paging, not a filter: see `paging.ts`.)
 */
export const AUDIT_FILTERS = [
  { param: "userId", field: "userId", op: "=" },
  { param: "sessionId", field: "sessionId", op: "=" },
  { param: "since", field: "at", op: ">=" },
  { param: "until", field: "at", op: "<" },
] as const satisfies readonly {
  param: keyof AuditQuery;
  field: keyof AuditEvent;
  op: AuditFilterOp;
}[];

function holds(op: AuditFilterOp, have: string | number | null, want: string | number): boolean {
  switch (op) {
    case "=":
      return have === want;
    case ">=":
      return typeof have === "number" && typeof want === "number" && have >= want;
    case "<":
      return typeof have === "number" && typeof want === "number" && have < want;
  }
}

/**
 * True when the event passes every filter the query sets ({@link AUDIT_FILTERS}).
 *
 * @example
 * ```ts
 * const page = events.filter((e) => matchesAudit(e, { userId: "alice", since: Date.now() - 86_400_000 }));
 * ```
 */
export function matchesAudit(event: AuditEvent, query: AuditQuery): boolean {
  for (const filter of AUDIT_FILTERS) {
    const want = query[filter.param];
    if (want !== undefined && !holds(filter.op, event[filter.field], want)) return false;
  }
  return true;
}

/**
 * True when `next` is further than `current`: a notice's delivery state only moves forward
 * (pending → delivered → acknowledged), and any state is further than none.
 *
 * @example
 * ```ts
 * if (isFurther(status, event.delivery)) event.delivery = status;
 * ```
 */
export function isFurther(next: DeliveryStatus, current: DeliveryStatus | null): boolean {
  return current === null || DELIVERY_RANK[next] > DELIVERY_RANK[current];
}

/**
 * True for one of the protocol's delivery states (for values read back from storage).
 *
 * @example
 * ```ts
 * const state = await redis.get(key);
 * if (isDeliveryStatus(state) && isFurther(state, event.delivery)) event.delivery = state;
 * ```
 */
export function isDeliveryStatus(value: unknown): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly unknown[]).includes(value);
}
