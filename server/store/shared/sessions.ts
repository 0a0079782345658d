/**
 * The session rules every store applies identically: how a policy's verdict becomes records,
 * and when a live session is stale. A store only has to make them atomic.
 *
 * @module
 */

import type { ClaimResult, Decide, SessionRecord } from "../types.js";

/**
 * Runs a policy's decision on the user's live sessions and computes the records to write:
 * the new session, and the evicted ones ended as `replaced` by it (with its device and time).
 * The one place a verdict becomes records, shared by every store so that they apply it
 * identically; the store only has to make the read-decide-write atomic. Returns copies: the
 * inputs are not changed.
 *
 * @example
 * ```ts
 * // Inside your store's atomic section for session.userId:
 * const outcome = applyDecision(session, await readLive(session.userId), decide);
 * if (outcome.kind === "admitted") await write([outcome.session, ...outcome.evicted]);
 * return outcome;
 * ```
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

/**
 * True when a live session is past its absolute expiry (`expiresAt <= now`) or its idle
 * deadline (`lastSeenAt <= idleBefore`): what `findStale` returns.
 *
 * @example
 * ```ts
 * const stale = live.filter((s) => isStale(s, now, now - idleTimeout));
 * ```
 */
export function isStale(s: SessionRecord, now: number, idleBefore: number): boolean {
  return s.expiresAt <= now || s.lastSeenAt <= idleBefore;
}
