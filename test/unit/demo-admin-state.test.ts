import { describe, expect, it } from "vitest";
import { furthest, Trail } from "../../demo/admin-state.js";
import type { AuditEventView, AuditKind, DeliveryStatus } from "../../protocol/index.js";

function event(id: string, kind: AuditKind, sessionId: string, delivery: DeliveryStatus | null = null): AuditEventView {
  return {
    id,
    kind,
    at: new Date(Number(id) * 1000).toISOString(),
    userId: "alice",
    sessionId,
    device: { name: null, browser: "Firefox 132", os: "Windows 10", ip: "10.0.0.7" },
    node: "web-1:1",
    by: null,
    delivery,
    detail: null,
  };
}

describe("the admin view's audit trail", () => {
  it("keeps events newest first by numeric id, without duplicates", () => {
    const trail = new Trail();
    expect(trail.add([event("9", "login", "s1"), event("10", "replaced", "s1", "delivered")])).toEqual(["9", "10"]);
    // A live event that the next page fetch also returns is not shown twice.
    expect(trail.add([event("11", "login", "s2"), event("10", "replaced", "s1", "delivered")])).toEqual(["11"]);
    expect(trail.events.map((e) => e.id)).toEqual(["11", "10", "9"]);
  });

  it("moves a delivery status forward only, on the session's ending event", () => {
    const trail = new Trail();
    trail.add([event("1", "login", "s1"), event("2", "replaced", "s1", "pending")]);
    expect(trail.deliver({ sessionId: "s1", status: "acknowledged" })).toBe("2");
    expect(trail.deliver({ sessionId: "s1", status: "delivered" })).toBeNull();
    // A page fetched before the ack carries the older status: it does not move the badge back.
    trail.add([event("2", "replaced", "s1", "delivered")]);
    const byId = new Map(trail.events.map((e) => [e.id, e.delivery]));
    expect(byId.get("2")).toBe("acknowledged");
    expect(byId.get("1")).toBeNull();
  });

  it("applies an update that arrives before its event", () => {
    const trail = new Trail();
    expect(trail.deliver({ sessionId: "s3", status: "acknowledged" })).toBeNull();
    trail.add([event("5", "revoked", "s3", "delivered")]);
    expect(trail.events[0]?.delivery).toBe("acknowledged");
  });

  it("keeps at most its limit, dropping the oldest", () => {
    const trail = new Trail(3);
    trail.add([1, 2, 3, 4, 5].map((n) => event(String(n), "login", `s${n}`)));
    expect(trail.events.map((e) => e.id)).toEqual(["5", "4", "3"]);
    expect(trail.add([event("1", "login", "s1")])).toEqual([]);
    expect(trail.events).toHaveLength(3);
    // An older page the person asked for is kept.
    expect(trail.add([event("2", "login", "s2"), event("1", "login", "s1")], true)).toEqual(["2", "1"]);
    expect(trail.events.map((e) => e.id)).toEqual(["5", "4", "3", "2", "1"]);
  });

  it("orders the statuses pending < delivered < acknowledged", () => {
    expect(furthest("pending", "delivered")).toBe("delivered");
    expect(furthest("acknowledged", "pending")).toBe("acknowledged");
    expect(furthest(null, "pending")).toBe("pending");
    expect(furthest("delivered", null)).toBe("delivered");
  });
});
