import { afterEach, describe, expect, it } from "vitest";
import { STORE_DEFAULTS } from "../../server/store/defaults.js";
import { MemoryStore } from "../../server/store/memory/store.js";
import { auditCursor } from "../../server/store/shared/paging.js";
import { SqliteStore } from "../../server/store/sqlite/store.js";
import type { AuditEvent, NewAuditEvent, SessionStore } from "../../server/store/types.js";

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
    const page = await s.queryAudit({ userId: "alice", limit: 2, before: auditCursor(alice[1] as AuditEvent) });
    expect(page.map((e) => e.at)).toEqual([3_000, 2_000]);
  });
});

describe.each([
  ["memory", (auditMaxLength?: number) => new MemoryStore({ auditMaxLength })],
  ["sqlite", (auditMaxLength?: number) => new SqliteStore({ filename: ":memory:", auditMaxLength })],
])("%s store: audit cap", (_name, make) => {
  it("keeps the newest auditMaxLength events, whether they come one by one or in one batch", async () => {
    const s = make(5);
    stores.push(s);
    const oneByOne: string[] = [];
    for (let i = 0; i < 8; i++) oneByOne.push(await s.appendAudit(event({ at: 1_000 + i })));
    expect((await s.queryAudit({})).map((e) => e.id)).toEqual(oneByOne.slice(3).reverse());
    // Appended together: SQLite commits them in one transaction, and caps in it.
    const together = await Promise.all(Array.from({ length: 7 }, (_, i) => s.appendAudit(event({ at: 2_000 + i }))));
    expect((await s.queryAudit({})).map((e) => e.id)).toEqual(together.slice(2).reverse());
  });

  it("without the option, keeps the cap every backend shares (STORE_DEFAULTS.auditMaxLength)", async () => {
    const s = make();
    stores.push(s);
    const cap = STORE_DEFAULTS.auditMaxLength;
    const ids = await Promise.all(Array.from({ length: cap + 5 }, (_, i) => s.appendAudit(event({ at: i }))));
    // The 5 oldest went; the 6th is the oldest left.
    expect(await s.queryAudit({ until: 5 })).toEqual([]);
    expect((await s.queryAudit({ until: 6 })).map((e) => e.id)).toEqual([ids[5]]);
  });
});
