/**
 * The contract of the audit trail (appending, filtering, paging, delivery states) and of the
 * store's life cycle (ping, close).
 *
 * @module
 */

import { describe, expect, it } from "vitest";
import { SoloError } from "../../errors/solo-error.js";
import { auditCursor } from "../../store/shared/paging.js";
import type { AuditEvent } from "../../store/types.js";
import { audit, type Fresh, record, T0 } from "./fixtures.js";

/** Registers the audit and life-cycle tests; `fresh` gives a new, empty store. */
export function auditContract(fresh: Fresh): void {
  describe("audit", () => {
    it("appends with increasing ids and queries newest first with filters and paging", async () => {
      const store = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        ids.push(await store.appendAudit(audit("login", T0 + i * 1000, i % 2 ? "alice" : "bob", `s${i}`)));
      }
      const all = await store.queryAudit({});
      expect(all.map((e) => e.id)).toEqual([...ids].reverse());
      expect(all[0]).toMatchObject({
        kind: "login",
        at: T0 + 11_000,
        userId: "alice",
        sessionId: "s11",
        node: "node-1",
      });
      expect((await store.queryAudit({ userId: "bob" })).every((e) => e.userId === "bob")).toBe(true);
      expect((await store.queryAudit({ sessionId: "s3" })).map((e) => e.id)).toEqual([ids[3]]);
      const window = await store.queryAudit({ since: T0 + 2000, until: T0 + 5000 });
      expect(window.map((e) => e.at)).toEqual([T0 + 4000, T0 + 3000, T0 + 2000]);
      const first = await store.queryAudit({ limit: 5 });
      expect(first).toHaveLength(5);
      const second = await store.queryAudit({ limit: 5, before: auditCursor(first[4] as AuditEvent) });
      expect(second.map((e) => e.id)).toEqual(ids.slice(2, 7).reverse());
    });

    it("pages with the opaque cursor of the shared codec, and refuses a malformed one with invalid_request", async () => {
      const store = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await store.appendAudit(audit("login", T0 + i, "alice", `s${i}`)));
      const seen: string[] = [];
      let before: string | undefined;
      for (let page = 0; page < 5; page++) {
        const events = await store.queryAudit({ limit: 2, ...(before ? { before } : {}) });
        seen.push(...events.map((e) => e.id));
        const last = events[events.length - 1];
        if (events.length < 2 || !last) break;
        before = auditCursor(last);
      }
      expect(seen).toEqual([...ids].reverse());
      for (const malformed of ["%%%not-a-cursor", ids[0] as string, auditCursor({ id: "x" }).slice(1)]) {
        const error = await store.queryAudit({ before: malformed }).catch((e: unknown) => e);
        expect(error, malformed).toBeInstanceOf(SoloError);
        expect((error as SoloError).code, malformed).toBe("invalid_request");
      }
    });

    it("moves the delivery state of the ending event forward only", async () => {
      const store = await fresh();
      await store.appendAudit(audit("login", T0, "alice", "s1"));
      await store.appendAudit(audit("replaced", T0 + 1, "alice", "s1"));
      const state = async () => (await store.queryAudit({ sessionId: "s1" })).map((e) => [e.kind, e.delivery]);
      expect(await state()).toEqual([
        ["replaced", "pending"],
        ["login", null],
      ]);
      await store.updateDelivery("s1", "acknowledged");
      await store.updateDelivery("s1", "delivered");
      expect(await state()).toEqual([
        ["replaced", "acknowledged"],
        ["login", null],
      ]);
    });
  });

  describe("ping and close", () => {
    it("answers ping while open", async () => {
      const store = await fresh();
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("after close, rejects every call with store_unavailable; closing again is harmless", async () => {
      const store = await fresh();
      const s = record("alice");
      await store.claim(s, () => ({ kind: "admit", evict: [] }));
      await store.close();
      await store.close();
      const end = { at: T0 + 1, reason: "logout" as const, by: null };
      for (const [name, call] of [
        ["claim", () => store.claim(record("alice"), () => ({ kind: "admit", evict: [] }))],
        ["get", () => store.get(s.id)],
        ["listLive", () => store.listLive("alice")],
        ["listAllLive", () => store.listAllLive({})],
        ["end", () => store.end(s.id, end)],
        ["endAll", () => store.endAll("alice", end)],
        ["touch", () => store.touch(s.id, T0 + 2)],
        ["markPresence", () => store.markPresence([s.id], T0 + 2)],
        ["findStale", () => store.findStale(T0, T0, 10)],
        ["purge", () => store.purge(T0, T0)],
        ["countLive", () => store.countLive()],
        ["appendAudit", () => store.appendAudit(audit("login", T0, "alice", s.id))],
        ["updateDelivery", () => store.updateDelivery(s.id, "delivered")],
        ["queryAudit", () => store.queryAudit({})],
        ["ping", () => store.ping()],
      ] as const) {
        const error = await call().catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(SoloError);
        expect((error as SoloError).code, name).toBe("store_unavailable");
      }
    });
  });
}
