import {
  ENDED_CODE,
  ENDED_REASON,
  isSessionEndedCode,
  type ReplacedBy,
  type RevocationNotice,
  type RevocationReason,
} from "solo-session/protocol";
import type { Revocation, RevocationSource } from "./types.js";

/** A pushed `session:revoked` notice as a {@link Revocation}. */
export function fromNotice(notice: RevocationNotice): Revocation {
  return { ...notice, code: ENDED_CODE[notice.reason], source: "push" };
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
    reason: refusal.reason ?? ENDED_REASON[code],
    code,
    sessionId,
    at: refusal.by?.at ?? new Date(now).toISOString(),
    source,
  };
  if (refusal.by) revocation.by = refusal.by;
  return revocation;
}
