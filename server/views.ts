import type { ReplacedBy, RevocationNotice, SessionView } from "./protocol.js";
import type { EndedBy, SessionRecord } from "./store/types.js";

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
