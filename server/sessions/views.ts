import type { AuditEventView, DeviceView, ReplacedBy, RevocationNotice, SessionView } from "../../protocol/index.js";
import type { AuditEvent, DeviceInfo, EndedBy, SessionRecord } from "../store/types.js";

const iso = (ms: number): string => new Date(ms).toISOString();

/** A session as the API shows it. */
export function sessionView(s: SessionRecord): SessionView {
  return {
    id: s.id,
    userId: s.userId,
    createdAt: iso(s.createdAt),
    lastSeenAt: iso(s.lastSeenAt),
    expiresAt: iso(s.expiresAt),
    device: { ...s.device },
  };
}

/** Who took over, as the API shows it. */
export function replacedBy(by: EndedBy): ReplacedBy {
  return { device: { ...by.device }, at: iso(by.at) };
}

/** The `session:revoked` payload for an ended session (only its id and `ended` are read). */
export function revocationNotice(s: Pick<SessionRecord, "id" | "ended">): RevocationNotice {
  if (!s.ended) throw new Error(`session ${s.id} has not ended`);
  const notice: RevocationNotice = { reason: s.ended.reason, sessionId: s.id, at: iso(s.ended.at) };
  if (s.ended.by) notice.by = replacedBy(s.ended.by);
  return notice;
}

/**
 * An audit event as the admin API and the admin feed show it: times as ISO 8601 strings.
 *
 * @example
 * ```ts
 * res.json({ events: (await store.queryAudit({ userId })).map(auditEventView) });
 * ```
 */
export function auditEventView(e: AuditEvent): AuditEventView {
  return {
    id: e.id,
    kind: e.kind,
    at: new Date(e.at).toISOString(),
    userId: e.userId,
    sessionId: e.sessionId,
    device: e.device ? deviceView(e.device) : null,
    node: e.node,
    by: e.by
      ? { sessionId: e.by.sessionId, userId: e.by.userId, device: e.by.device ? deviceView(e.by.device) : null }
      : null,
    delivery: e.delivery,
    detail: e.detail,
  };
}

function deviceView(d: DeviceInfo): DeviceView {
  return { name: d.name, browser: d.browser, os: d.os, ip: d.ip };
}
