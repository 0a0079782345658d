import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../../server/store/memory.js";
import { SqliteStore } from "../../server/store/sqlite.js";
import type { NewAuditEvent, SessionStore } from "../../server/store/types.js";

const stores: SessionStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const device = { name: null, browser: "Firefox 132", os: "Windows 10", ip: "10.0.0.7" };
const event = (over: Partial<NewAuditEvent>): NewAuditEvent => ({
  kind: "login",
  at: 1_000,
  userId: "alice",
  sessionId: "s1",
  device,
  node: "n1",
  by: null,
  delivery: null,
  detail: null,
  ...over,
});

describe.each([
  ["memory", () => new MemoryStore()],
  ["sqlite", () => new SqliteStore({ filename: ":memory:" })],
])("%s store: audit delivery", (_name, make) => {
  function store(): SessionStore {
    const s = make();
    stores.push(s);
    return s;
  }

  it("moves the delivery of the session's ending event forward only, leaving its login alone", async () => {
    const s = store();
    await s.appendAudit(event({ kind: "login", sessionId: "s1" }));
    await s.appendAudit(event({ kind: "replaced", sessionId: "s1", at: 2_000, delivery: "pending" }));
    await s.appendAudit(event({ kind: "replaced", sessionId: "s2", at: 2_000, delivery: "pending" }));
    const delivery = async (sessionId: string) =>
      (await s.queryAudit({ sessionId })).map((e) => [e.kind, e.delivery] as const);

    await s.updateDelivery("s1", "delivered");
    expect(await delivery("s1")).toEqual([
      ["replaced", "delivered"],
      ["login", null],
    ]);
    await s.updateDelivery("s1", "acknowledged");
    await s.updateDelivery("s1", "delivered");
    await s.updateDelivery("s1", "pending");
    expect(await delivery("s1")).toEqual([
      ["replaced", "acknowledged"],
      ["login", null],
    ]);
    expect(await delivery("s2")).toEqual([["replaced", "pending"]]);
    await s.updateDelivery("unknown", "delivered"); // no event: nothing happens
  });

  it("queries by user and time window, newest first, and pages with before", async () => {
    const s = store();
    for (let i = 0; i < 5; i++) await s.appendAudit(event({ at: 1_000 * (i + 1), sessionId: `s${i}` }));
    await s.appendAudit(event({ userId: "bob", at: 3_500 }));
    const alice = await s.queryAudit({ userId: "alice" });
    expect(alice.map((e) => e.at)).toEqual([5_000, 4_000, 3_000, 2_000, 1_000]);
    expect((await s.queryAudit({ userId: "alice", since: 2_000, until: 4_000 })).map((e) => e.at)).toEqual([
      3_000, 2_000,
    ]);
    const page = await s.queryAudit({ userId: "alice", limit: 2, before: alice[1]?.id });
    expect(page.map((e) => e.at)).toEqual([3_000, 2_000]);
  });
});
