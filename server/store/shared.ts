import { SoloError } from "../errors/solo-error.js";
import type { ClaimResult, Decide, SessionRecord } from "./types.js";

/**
 * Runs a policy's decision on the live sessions and computes the records to write.
 * Shared by every store so that they apply a verdict identically; the store only has to
 * make the read-decide-write atomic.
 */
export function applyDecision(session: SessionRecord, live: readonly SessionRecord[], decide: Decide): ClaimResult {
  const decision = decide(live);
  if (decision.kind === "refuse") return { kind: "refused", active: structuredClone(decision.active) };
  const evictIds = new Set(decision.evict);
  const evicted: SessionRecord[] = [];
  for (const s of live) {
    if (!evictIds.has(s.id)) continue;
    evicted.push({
      ...structuredClone(s),
      ended: {
        at: session.createdAt,
        reason: "replaced",
        by: { sessionId: session.id, device: { ...session.device }, at: session.createdAt },
      },
    });
  }
  return { kind: "admitted", session: structuredClone(session), evicted };
}

/** True when a live session is past its absolute expiry or its idle deadline. */
export function isStale(s: SessionRecord, now: number, idleBefore: number): boolean {
  return s.expiresAt <= now || s.lastSeenAt <= idleBefore;
}

/** Clamps a page size to 1..500. */
export function clampLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(1, Math.min(500, Math.trunc(limit)));
}

/** Cursor of a newest-first page of live sessions. */
export interface LiveCursor {
  createdAt: number;
  id: string;
}

export function encodeCursor(s: { createdAt: number; id: string }): string {
  return Buffer.from(JSON.stringify([s.createdAt, s.id])).toString("base64url");
}

/** Decodes a cursor; a malformed one is an `invalid_request`. */
export function decodeCursor(cursor: string | undefined): LiveCursor | null {
  if (!cursor) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    value = null;
  }
  if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") {
    return { createdAt: value[0], id: value[1] };
  }
  throw new SoloError("invalid_request", {}, "The cursor is malformed.");
}
