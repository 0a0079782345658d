/**
 * The Redis store's audit trail: the stream `{g}:audit` (`XADD MAXLEN ~ auditMaxLength`),
 * and the delivery state of each ended session's notice in its own key `dlv:<sessionId>`
 * (a state moves forward after its event was written; queries merge it in). The delivery keys
 * are one slot each: reads and deletes of several go through `execEach`.
 *
 * @module
 */

import { isEndingKind } from "../../../protocol/index.js";
import { STORE_DEFAULTS } from "../defaults.js";
import { isDeliveryStatus, isFurther, matchesAudit } from "../shared/audit.js";
import { auditBefore, clampLimit } from "../shared/paging.js";
import type { AuditEvent, AuditQuery, DeliveryStatus, NewAuditEvent } from "../types.js";
import { parseAudit } from "./codec.js";
import { type Command, execEach } from "./connection.js";
import type { RedisContext } from "./context.js";

/** Entries handled per round of the audit purge. */
const PURGE_BATCH = 500;
/** A stream id. */
const STREAM_ID = /^\d+-\d+$/;

/** The audit trail of one store. */
export class RedisAudit {
  readonly #ctx: RedisContext;

  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
  }

  async append(event: NewAuditEvent): Promise<string> {
    const { client, keys, settings } = this.#ctx;
    const id = await client.xadd(keys.audit, "MAXLEN", "~", settings.auditMaxLength, "*", "e", JSON.stringify(event));
    if (typeof id !== "string") throw new Error("RedisStore: XADD returned no id");
    return id;
  }

  async updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    const { keys, scripts, settings } = this.#ctx;
    await scripts.soloDelivery(1, keys.delivery(sessionId), status, settings.auditRetention);
  }

  async query(query: AuditQuery): Promise<AuditEvent[]> {
    const { client, keys } = this.#ctx;
    const limit = clampLimit(query.limit, STORE_DEFAULTS.page.audit);
    const below = auditBefore(query.before);
    if (below !== null && !STREAM_ID.test(below)) return [];
    let max = below !== null ? `(${below}` : "+";
    const out: AuditEvent[] = [];
    const batch = Math.max(200, limit * 2);
    while (out.length < limit) {
      const entries = await client.xrevrange(keys.audit, max, "-", "COUNT", batch);
      for (const [id, fields] of entries) {
        const e = parseAudit(id, fields);
        if (!e || !matchesAudit(e, query)) continue;
        out.push(e);
        if (out.length >= limit) break;
      }
      const last = entries[entries.length - 1];
      if (entries.length < batch || !last) break;
      max = `(${last[0]}`;
    }
    // Delivery moves forward after the event was written: merge the latest state.
    const ending = out.filter((e) => e.sessionId !== null && isEndingKind(e.kind));
    if (ending.length > 0) {
      const states = await execEach(
        client,
        ending.map((e) => ["get", keys.delivery(e.sessionId as string)]),
      );
      ending.forEach((e, i) => {
        const state = states[i];
        if (isDeliveryStatus(state) && isFurther(state, e.delivery)) e.delivery = state;
      });
    }
    return out;
  }

  /** Deletes audit events older than `before` (from the oldest; events are appended in time order). */
  async purge(before: number): Promise<void> {
    const { client, keys } = this.#ctx;
    let min = "-";
    for (;;) {
      const entries = await client.xrange(keys.audit, min, "+", "COUNT", PURGE_BATCH);
      const old: string[] = [];
      const dlv: string[] = [];
      let reachedNewer = false;
      for (const [id, fields] of entries) {
        const e = parseAudit(id, fields);
        if (e && e.at >= before) {
          reachedNewer = true;
          break;
        }
        old.push(id);
        if (e?.sessionId && isEndingKind(e.kind)) dlv.push(keys.delivery(e.sessionId));
      }
      if (old.length > 0) {
        await execEach(client, [["xdel", keys.audit, ...old], ...dlv.map((key): Command => ["del", key])]);
      }
      const last = entries[entries.length - 1];
      if (reachedNewer || entries.length < PURGE_BATCH || !last) return;
      min = `(${last[0]}`;
    }
  }
}
