import type { ClaimDecision, SessionRecord } from "../store/types.js";
import type { SessionUser } from "./user.js";

/**
 * How a new login treats the user's live sessions.
 *
 * - `"newest-wins"`: the new login ends every other session (default).
 * - `"oldest-wins"`: the new login is refused while another session is in use; a session
 *   whose device has held no live socket (and made no request) for the abandon grace period
 *   counts as abandoned and is replaced, so a closed browser never locks its user out.
 * - `"confirm"`: the new login is refused with the active session's device until the client
 *   retries with `takeover: true`, which replaces it.
 * - `{ maxSessions: N }`: up to N sessions; beyond that the least recently active are replaced.
 */
export type PolicySpec = "newest-wins" | "oldest-wins" | "confirm" | { readonly maxSessions: number };

/** A policy for everyone, or chosen per user (for example by role). */
export type PolicyOption = PolicySpec | ((user: SessionUser) => PolicySpec);

/**
 * How often a node confirms its sockets' presence in the store under `policy`, in ms; 0 when no
 * policy in use reads presence (only `oldest-wins` does, to tell an abandoned session from one in
 * use; a per-user function may choose it).
 *
 * @example
 * ```ts
 * presenceInterval("oldest-wins", 60_000); // → 20_000
 * presenceInterval("newest-wins", 60_000); // → 0
 * ```
 */
export function presenceInterval(policy: PolicyOption, abandonGrace: number): number {
  const reads = policy === "oldest-wins" || typeof policy === "function";
  return reads ? Math.max(1000, Math.floor(abandonGrace / 3)) : 0;
}

/** What a policy knows about the login being decided. */
export interface PolicyContext {
  /** Epoch ms of the login. */
  now: number;
  /** The client asked to take over (`"takeover": true`). */
  takeover: boolean;
  /** How long a session may go without a live socket or a request before it counts as abandoned, in ms. */
  abandonGrace: number;
}

/**
 * Decides a login. A pure function of the user's live sessions (oldest first), the policy
 * and the context: stores run it inside their atomic claim.
 *
 * @example
 * ```ts
 * decide("newest-wins", live, { now: Date.now(), takeover: false, abandonGrace: 60_000 })
 * // → { kind: "admit", evict: live.map((s) => s.id) }
 * ```
 */
export function decide(policy: PolicySpec, live: readonly SessionRecord[], ctx: PolicyContext): ClaimDecision {
  if (live.length === 0) return admit([]);
  if (typeof policy === "object") return decideMax(policy.maxSessions, live);
  switch (policy) {
    case "newest-wins":
      return admit(live);
    case "oldest-wins": {
      const inUse = live.filter((s) => !isAbandoned(s, ctx));
      const first = inUse[0];
      return first ? { kind: "refuse", active: first } : admit(live);
    }
    case "confirm": {
      if (ctx.takeover) return admit(live);
      const newest = live[live.length - 1] as SessionRecord;
      return { kind: "refuse", active: newest };
    }
    default:
      return assertNever(policy);
  }
}

/** A session is abandoned when neither a live socket nor a request was seen for the grace period. */
export function isAbandoned(s: SessionRecord, ctx: Pick<PolicyContext, "now" | "abandonGrace">): boolean {
  const lastSign = Math.max(s.presenceAt ?? 0, s.lastSeenAt, s.createdAt);
  return ctx.now - lastSign >= ctx.abandonGrace;
}

/** Validates a policy spec; throws a TypeError naming the problem. */
export function assertPolicySpec(policy: unknown, where = "policy"): asserts policy is PolicySpec {
  if (policy === "newest-wins" || policy === "oldest-wins" || policy === "confirm") return;
  if (typeof policy === "object" && policy !== null && "maxSessions" in policy) {
    const n = (policy as { maxSessions: unknown }).maxSessions;
    if (typeof n === "number" && Number.isInteger(n) && n >= 1) return;
    throw new TypeError(`${where}.maxSessions must be an integer >= 1, got ${String(n)}`);
  }
  throw new TypeError(
    `${where} must be "newest-wins", "oldest-wins", "confirm" or { maxSessions: N }, got ${JSON.stringify(policy)}`,
  );
}

/** Parses the `SOLO_POLICY` syntax: `newest-wins`, `oldest-wins`, `confirm` or `max:N`. */
export function parsePolicy(text: string): PolicySpec {
  const match = /^max:(\d+)$/.exec(text.trim());
  const spec: unknown = match ? { maxSessions: Number(match[1]) } : text.trim();
  assertPolicySpec(spec, "SOLO_POLICY");
  return spec;
}

function decideMax(max: number, live: readonly SessionRecord[]): ClaimDecision {
  const excess = live.length + 1 - max;
  if (excess <= 0) return admit([]);
  // Least recently active first: activity is a request or an activity signal, not an open socket.
  const byActivity = [...live].sort(
    (a, b) => a.lastSeenAt - b.lastSeenAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1),
  );
  return admit(byActivity.slice(0, excess));
}

function admit(evict: readonly SessionRecord[]): ClaimDecision {
  return { kind: "admit", evict: evict.map((s) => s.id) };
}

function assertNever(value: never): never {
  throw new TypeError(`unknown policy ${JSON.stringify(value)}`);
}
