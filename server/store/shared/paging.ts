/**
 * Paging newest first, the same way for live sessions and for the audit trail: a page ends
 * at a position (the sort key of its last item) and the next page starts just after it. A
 * position travels as an opaque cursor (base64url JSON), made and read here only:
 *
 * | listing | position | cursor made by | passed back as |
 * | --- | --- | --- | --- |
 * | live sessions (`listAllLive`) | `[createdAt, id]` of the last session | the store (`LivePage.next`) | `cursor` |
 * | audit trail (`queryAudit`) | `[id]` of the last (oldest) event | {@link auditCursor} (the admin API's `next`) | `before` |
 *
 * A malformed cursor is a `SoloError("invalid_request")`.
 *
 * @module
 */

import { SoloError } from "../../errors/solo-error.js";
import { STORE_DEFAULTS } from "../defaults.js";
import type { AuditEvent, LivePage, SessionRecord } from "../types.js";

type Position = readonly (string | number)[];

function encode(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

/** Reads a cursor whose position has the given types, in order. */
function decode(cursor: string, types: readonly ("string" | "number")[]): Position {
  let value: unknown = null;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    value = null;
  }
  if (Array.isArray(value) && value.length === types.length && types.every((t, i) => typeof value[i] === t)) {
    return value as Position;
  }
  throw new SoloError("invalid_request", {}, "The cursor is malformed.");
}

/**
 * A page size as asked, clamped to 1..500 (`STORE_DEFAULTS.page.max`); `fallback` when none
 * (or no finite number) is given.
 *
 * @example
 * ```ts
 * const limit = clampLimit(query.limit, STORE_DEFAULTS.page.live); // 50 when not given
 * ```
 */
export function clampLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(1, Math.min(STORE_DEFAULTS.page.max, Math.trunc(limit)));
}

/** Where a page of live sessions ended: its last session's `createdAt` and `id`. */
export interface LivePosition {
  createdAt: number;
  id: string;
}

/**
 * The cursor of the page of live sessions after `last`.
 *
 * @example
 * ```ts
 * return { sessions: page, next: more ? liveCursor(page[page.length - 1]) : null };
 * ```
 */
export function liveCursor(last: LivePosition): string {
  return encode([last.createdAt, last.id]);
}

/**
 * Reads a `listAllLive` cursor: the position the page starts after, or null without one.
 *
 * @example
 * ```ts
 * const after = liveAfter(query.cursor); // throws SoloError("invalid_request") if malformed
 * ```
 */
export function liveAfter(cursor: string | undefined): LivePosition | null {
  if (!cursor) return null;
  const [createdAt, id] = decode(cursor, ["number", "string"]) as [number, string];
  return { createdAt, id };
}

/**
 * The order of live-session pages: newest `createdAt` first, ties by `id`, descending.
 *
 * @example
 * ```ts
 * sessions.sort(newestFirst);
 * ```
 */
export function newestFirst(a: LivePosition, b: LivePosition): number {
  return b.createdAt - a.createdAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

/**
 * True when `s` comes after the position in newest-first order (so on the next page).
 *
 * @example
 * ```ts
 * const rest = after ? sorted.filter((s) => isAfter(s, after)) : sorted;
 * ```
 */
export function isAfter(s: LivePosition, position: LivePosition): boolean {
  return s.createdAt < position.createdAt || (s.createdAt === position.createdAt && s.id < position.id);
}

/**
 * A page from live sessions already in newest-first order and starting after the cursor:
 * the first `limit`, and a cursor if there are more.
 *
 * @example
 * ```ts
 * const rows = select("... ORDER BY created_at DESC, id DESC LIMIT ?", limit + 1);
 * return livePage(rows, limit);
 * ```
 */
export function livePage(ordered: readonly SessionRecord[], limit: number): LivePage {
  const sessions = ordered.slice(0, limit);
  const last = sessions[sessions.length - 1];
  return { sessions, next: ordered.length > limit && last ? liveCursor(last) : null };
}

/**
 * Sorts live sessions newest first, skips to the cursor and pages: for a store that has the
 * whole list at hand.
 *
 * @example
 * ```ts
 * return pageLive([...live], liveAfter(query.cursor), clampLimit(query.limit, STORE_DEFAULTS.page.live));
 * ```
 */
export function pageLive(live: SessionRecord[], after: LivePosition | null, limit: number): LivePage {
  live.sort(newestFirst);
  return livePage(after ? live.filter((s) => isAfter(s, after)) : live, limit);
}

/**
 * The cursor of the audit page older than `last` (pass it as `AuditQuery.before`); the admin
 * API answers it as `next`.
 *
 * @example
 * ```ts
 * const events = await store.queryAudit({ limit: 100 });
 * const older = await store.queryAudit({ limit: 100, before: auditCursor(events[events.length - 1]) });
 * ```
 */
export function auditCursor(last: Pick<AuditEvent, "id">): string {
  return encode([last.id]);
}

/**
 * Reads an `AuditQuery.before` cursor: the id of the event the page starts below (the store's
 * own id, as it assigned it), or null without one.
 *
 * @example
 * ```ts
 * const below = auditBefore(query.before); // "42": return events with id < 42
 * ```
 */
export function auditBefore(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const [id] = decode(cursor, ["string"]) as [string];
  return id;
}
