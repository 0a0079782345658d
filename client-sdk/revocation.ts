import {
  isSessionEndedCode,
  type ReplacedBy,
  type RevocationNotice,
  type RevocationReason,
  type SessionEndedCode,
} from "../server/protocol.js";
import type { Revocation, RevocationSource } from "./types.js";

const REASON: Record<SessionEndedCode, RevocationReason> = {
  session_replaced: "replaced",
  session_revoked: "revoked",
  session_expired: "expired",
  session_idle: "idle",
};

const CODE: Record<RevocationReason, SessionEndedCode> = {
  replaced: "session_replaced",
  logout: "session_revoked",
  revoked: "session_revoked",
  expired: "session_expired",
  idle: "session_idle",
};

/** A pushed `session:revoked` notice as a {@link Revocation}. */
export function fromNotice(notice: RevocationNotice): Revocation {
  const revocation: Revocation = {
    reason: notice.reason,
    code: CODE[notice.reason] ?? "session_revoked",
    sessionId: notice.sessionId,
    at: notice.at,
    source: "push",
  };
  if (notice.by) revocation.by = notice.by;
  return revocation;
}

/**
 * A refusal (an HTTP error body or a refused handshake's data) as a {@link Revocation}, or
 * null when its code does not mean "this session has ended".
 */
export function fromRefusal(
  refusal: { error?: unknown; code?: unknown; reason?: RevocationReason; by?: ReplacedBy },
  sessionId: string | null,
  source: RevocationSource,
  now: number,
): Revocation | null {
  const code = refusal.error ?? refusal.code;
  if (!isSessionEndedCode(code)) return null;
  const revocation: Revocation = {
    reason: refusal.reason ?? REASON[code],
    code,
    sessionId,
    at: refusal.by?.at ?? new Date(now).toISOString(),
    source,
  };
  if (refusal.by) revocation.by = refusal.by;
  return revocation;
}
