import {
  ENDED_CODE,
  ENDED_REASON,
  isSessionEndedCode,
  type ReplacedBy,
  type RevocationNotice,
  type RevocationReason,
} from "solo-session/protocol";
import type { Revocation, RevocationSource } from "./types.js";

/**
 * A revocation as the SDK learned it, with the dispute capability it came with (for a
 * replacement, while the dispute window is open). The client keeps the capability to itself
 * (`solo.dispute()`); the app sees the {@link Revocation} without it.
 */
export type Kick = Revocation & { dispute?: string };

/** A pushed `session:revoked` notice as a {@link Kick}. */
export function fromNotice(notice: RevocationNotice): Kick {
  return { ...notice, code: ENDED_CODE[notice.reason], source: "push", disputable: typeof notice.dispute === "string" };
}

/**
 * A refusal (an HTTP error body or a refused handshake's data) as a {@link Kick}, or
 * null when its code does not mean "this session has ended".
 */
export function fromRefusal(
  refusal: { error?: unknown; code?: unknown; reason?: RevocationReason; by?: ReplacedBy; dispute?: unknown },
  sessionId: string | null,
  source: RevocationSource,
  now: number,
): Kick | null {
  const code = refusal.error ?? refusal.code;
  if (!isSessionEndedCode(code)) return null;
  const dispute = typeof refusal.dispute === "string" ? refusal.dispute : undefined;
  const kick: Kick = {
    reason: refusal.reason ?? ENDED_REASON[code],
    code,
    sessionId,
    at: refusal.by?.at ?? new Date(now).toISOString(),
    source,
    disputable: dispute !== undefined,
  };
  if (refusal.by) kick.by = refusal.by;
  if (dispute !== undefined) kick.dispute = dispute;
  return kick;
}
