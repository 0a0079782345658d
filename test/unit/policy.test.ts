import { describe, expect, it } from "vitest";
import { assertPolicySpec, decide, isAbandoned, parsePolicy } from "../../server/sessions/policy.js";
import type { SessionRecord } from "../../server/store/types.js";

const T0 = Date.parse("2026-01-01T10:00:00Z");
const GRACE = 60_000;

function session(id: string, patch: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    userId: "alice",
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 8 * 3600_000,
    device: { name: null, browser: "Chrome 131", os: "macOS", ip: "10.0.0.1" },
    presenceAt: null,
    ended: null,
    ...patch,
  };
}

const ctx = (now: number, takeover = false) => ({ now, takeover, abandonGrace: GRACE });

describe("decide", () => {
  it("admits a first login under every policy", () => {
    for (const policy of ["newest-wins", "oldest-wins", "confirm", { maxSessions: 1 }] as const) {
      expect(decide(policy, [], ctx(T0))).toEqual({ kind: "admit", evict: [] });
    }
  });

  it("newest-wins evicts every live session", () => {
    const live = [session("a"), session("b", { createdAt: T0 + 1 })];
    expect(decide("newest-wins", live, ctx(T0 + 5))).toEqual({ kind: "admit", evict: ["a", "b"] });
  });

  it("oldest-wins refuses while the oldest session is in use, naming it", () => {
    const live = [session("a", { presenceAt: T0 + 50_000 })];
    const verdict = decide("oldest-wins", live, ctx(T0 + 100_000));
    expect(verdict.kind).toBe("refuse");
    expect(verdict.kind === "refuse" && verdict.active.id).toBe("a");
  });

  it("oldest-wins replaces a session abandoned for the grace period (closed browser)", () => {
    const live = [session("a", { presenceAt: T0 + 10_000 })];
    expect(decide("oldest-wins", live, ctx(T0 + 10_000 + GRACE))).toEqual({ kind: "admit", evict: ["a"] });
    expect(decide("oldest-wins", live, ctx(T0 + 10_000 + GRACE - 1)).kind).toBe("refuse");
  });

  it("oldest-wins counts a recent request as a sign of life", () => {
    const live = [session("a", { presenceAt: T0, lastSeenAt: T0 + 100_000 })];
    expect(decide("oldest-wins", live, ctx(T0 + 120_000)).kind).toBe("refuse");
  });

  it("confirm refuses without takeover and evicts everyone with it", () => {
    const live = [session("a"), session("b", { createdAt: T0 + 1 })];
    const refused = decide("confirm", live, ctx(T0 + 5));
    expect(refused.kind === "refuse" && refused.active.id).toBe("b");
    expect(decide("confirm", live, ctx(T0 + 5, true))).toEqual({ kind: "admit", evict: ["a", "b"] });
  });

  it("maxSessions keeps N and evicts the least recently active beyond", () => {
    const live = [
      session("old-but-active", { createdAt: T0, lastSeenAt: T0 + 900 }),
      session("idle", { createdAt: T0 + 1, lastSeenAt: T0 + 1 }),
      session("middle", { createdAt: T0 + 2, lastSeenAt: T0 + 500 }),
    ];
    expect(decide({ maxSessions: 4 }, live, ctx(T0 + 1000))).toEqual({ kind: "admit", evict: [] });
    expect(decide({ maxSessions: 3 }, live, ctx(T0 + 1000))).toEqual({ kind: "admit", evict: ["idle"] });
    expect(decide({ maxSessions: 2 }, live, ctx(T0 + 1000))).toEqual({ kind: "admit", evict: ["idle", "middle"] });
    expect(decide({ maxSessions: 1 }, live, ctx(T0 + 1000)).kind).toBe("admit");
  });

  it("is pure: the same input gives the same verdict and the input is not changed", () => {
    const live = Object.freeze([Object.freeze(session("a")), Object.freeze(session("b", { lastSeenAt: T0 - 1 }))]);
    const first = decide({ maxSessions: 2 }, live, ctx(T0));
    expect(decide({ maxSessions: 2 }, live, ctx(T0))).toEqual(first);
  });
});

describe("isAbandoned", () => {
  it("takes the latest of presence, activity and creation", () => {
    expect(isAbandoned(session("a"), { now: T0 + GRACE, abandonGrace: GRACE })).toBe(true);
    expect(isAbandoned(session("a", { presenceAt: T0 + 1 }), { now: T0 + GRACE, abandonGrace: GRACE })).toBe(false);
  });
});

describe("policy parsing and validation", () => {
  it("parses the SOLO_POLICY syntax", () => {
    expect(parsePolicy("newest-wins")).toBe("newest-wins");
    expect(parsePolicy("oldest-wins")).toBe("oldest-wins");
    expect(parsePolicy("confirm")).toBe("confirm");
    expect(parsePolicy("max:3")).toEqual({ maxSessions: 3 });
  });

  it("rejects anything else with a TypeError", () => {
    for (const bad of ["max:0", "max:-1", "max:x", "newest", ""]) expect(() => parsePolicy(bad)).toThrow(TypeError);
    expect(() => assertPolicySpec({ maxSessions: 1.5 })).toThrow(TypeError);
    expect(() => assertPolicySpec(null)).toThrow(TypeError);
  });
});
