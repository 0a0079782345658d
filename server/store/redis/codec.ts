/**
 * How the Redis store writes its values and reads them back: a session record as a hash,
 * the members of the global indexes, the entries of the ends stream and of the audit stream.
 *
 * @module
 */

import type { RevocationReason } from "../../../protocol/index.js";
import type { AuditEvent, DeviceInfo, EndedBy, NewAuditEvent, SessionEnd, SessionRecord } from "../types.js";

/** A session record as `HSET` field/value pairs (no `presenceAt` or `ended` while they are null). */
export function toFields(s: SessionRecord): string[] {
  const fields = [
    "id",
    s.id,
    "userId",
    s.userId,
    "createdAt",
    String(s.createdAt),
    "lastSeenAt",
    String(s.lastSeenAt),
    "expiresAt",
    String(s.expiresAt),
    "device",
    JSON.stringify(s.device),
  ];
  if (s.presenceAt !== null) fields.push("presenceAt", String(s.presenceAt));
  if (s.ended !== null) fields.push("ended", JSON.stringify(s.ended));
  return fields;
}

/** A record hash (`HGETALL`) as a record; null for a missing (empty) or foreign hash. */
export function fromHash(h: Record<string, string>): SessionRecord | null {
  if (!h || h.id === undefined || h.userId === undefined) return null;
  const ended = h.ended ? (JSON.parse(h.ended) as { at: number; reason: RevocationReason; by: EndedBy | null }) : null;
  return {
    id: h.id,
    userId: h.userId,
    createdAt: Number(h.createdAt),
    lastSeenAt: Number(h.lastSeenAt),
    expiresAt: Number(h.expiresAt),
    device: JSON.parse(h.device ?? "null") as DeviceInfo,
    presenceAt: h.presenceAt === undefined ? null : Number(h.presenceAt),
    ended: ended ? { at: ended.at, reason: ended.reason, by: ended.by ?? null } : null,
  };
}

/** A flat `[field, value, ...]` reply as an object. */
export function pairsToObject(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) out[pairs[i] as string] = pairs[i + 1] as string;
  return out;
}

/** A global index entry: enough to find the record (and every index entry) without another lookup. */
export interface Ref {
  id: string;
  userId: string;
  createdAt: number;
}

/**
 * Member of every global index: `<createdAt, 16 digits> NUL <id> NUL <userId>`. Byte order is
 * (createdAt, id), so a newest-first page of `created` is one range query, and a member names
 * the record's key without another lookup.
 */
export function member(ref: Ref): string {
  return `${memberPrefix(ref.createdAt, ref.id)}\u0000${ref.userId}`;
}

/** The (createdAt, id) part of a member: a `BYLEX` bound that sorts like the member. */
export function memberPrefix(createdAt: number, id: string): string {
  return `${String(Math.max(0, Math.trunc(createdAt))).padStart(16, "0")}\u0000${id}`;
}

/** Reads a member back. */
export function parseMember(m: string): Ref {
  const a = m.indexOf("\u0000");
  const b = m.indexOf("\u0000", a + 1);
  return { createdAt: Number(m.slice(0, a)), id: m.slice(a + 1, b), userId: m.slice(b + 1) };
}

/** One entry of the ends stream: a session that ended, and how (the record's `ended`). */
export interface EndEntry {
  /** Stream id (`<ms>-<seq>`), increasing. */
  id: string;
  sessionId: string;
  ended: SessionEnd;
}

/** The fields of an ends-stream entry: `s` the session id, `e` its `ended` as JSON. */
export function endFields(sessionId: string, endedJson: string): [string, string, string, string] {
  return ["s", sessionId, "e", endedJson];
}

/**
 * Reads an entry of the ends stream; null for anything malformed (it is skipped).
 *
 * @example
 * ```ts
 * for (const [id, fields] of await redis.xrange(store.endsKey, "-", "+")) console.log(parseEndEntry(id, fields));
 * ```
 */
export function parseEndEntry(id: string, fields: readonly string[]): EndEntry | null {
  const pairs = pairsToObject(fields);
  if (pairs.s === undefined || pairs.e === undefined) return null;
  try {
    const e = JSON.parse(pairs.e) as Partial<SessionEnd> | null;
    if (!e || typeof e.at !== "number" || typeof e.reason !== "string") return null;
    return { id, sessionId: pairs.s, ended: { at: e.at, reason: e.reason, by: e.by ?? null } };
  } catch {
    return null;
  }
}

/** An audit-stream entry: the event as JSON in field `e`; its id is the stream id. */
export function parseAudit(id: string, fields: readonly string[]): AuditEvent | null {
  const at = fields.indexOf("e");
  const json = at >= 0 ? fields[at + 1] : undefined;
  if (json === undefined) return null;
  return { ...(JSON.parse(json) as NewAuditEvent), id };
}
