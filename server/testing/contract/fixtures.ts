/**
 * What the contract tests are made of: session records, policies as decide functions, and
 * audit events, all at a fixed time.
 *
 * @module
 */

import { type AuditKind, isEndingKind } from "../../../protocol/index.js";
import { decide, type PolicySpec } from "../../sessions/policy.js";
import type { Decide, DeviceInfo, NewAuditEvent, SessionRecord, SessionStore } from "../../store/types.js";

/** Gives a new, empty store for one test (closed after it). */
export type Fresh = () => Promise<SessionStore>;

/** The time the tests happen at. */
export const T0 = Date.parse("2026-03-02T10:00:00Z");
/** One hour in milliseconds. */
export const HOUR = 3_600_000;

const device = (name: string): DeviceInfo => ({ name, browser: "Firefox 132", os: "Windows 10", ip: "10.0.0.1" });

let seq = 0;

/**
 * A fresh live session record of `userId`, created (and last seen) at `at`, expiring 8 hours later.
 *
 * @example
 * ```ts
 * const s = record("alice", Date.now());
 * await store.claim(s, () => ({ kind: "admit", evict: [] }));
 * ```
 */
export function record(userId: string, at = T0, overrides: Partial<SessionRecord> = {}): SessionRecord {
  seq++;
  return {
    id: `sess-${seq.toString(36).padStart(6, "0")}-${Math.random().toString(36).slice(2, 8)}`,
    userId,
    createdAt: at,
    lastSeenAt: at,
    expiresAt: at + 8 * HOUR,
    device: device(`device ${seq}`),
    presenceAt: null,
    ended: null,
    ...overrides,
  };
}

/** A built-in policy as the decide function a claim runs. */
export const policy =
  (spec: PolicySpec, now = T0, takeover = false): Decide =>
  (live) =>
    decide(spec, live, { now, takeover, abandonGrace: 60_000 });

/** The default policy, decided at {@link T0}. */
export const newestWins = policy("newest-wins");

/** An audit event of `kind`; an ending kind starts with delivery `pending`. */
export function audit(kind: AuditKind, at: number, userId: string, sessionId: string | null): NewAuditEvent {
  return {
    kind,
    at,
    userId,
    sessionId,
    device: device("d"),
    node: "node-1",
    by: null,
    delivery: isEndingKind(kind) ? "pending" : null,
    detail: null,
  };
}
