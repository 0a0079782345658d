/**
 * The contract of the outbox of session events (`SessionStore.outbox`): written with every
 * end, in one atomic step; handed out in order, one event per receiver at a time, under a lease.
 *
 * @module
 */

import { describe, expect, it } from "vitest";
import { SoloError } from "../../errors/solo-error.js";
import type { EventOutbox, SessionStore } from "../../store/types.js";
import { HOUR, newestWins, policy, record, T0 } from "./fixtures.js";

/** Gives a new, empty store that writes events for these receivers. */
export type FreshWithReceivers = (receivers: readonly string[]) => Promise<SessionStore>;

const RECEIVERS = ["https://a.example/events", "https://b.example/events"] as const;
const [A, B] = RECEIVERS;

/** The store's outbox; fails the test when the store has none. */
function outboxOf(store: SessionStore): EventOutbox {
  if (!store.outbox) throw new Error("a store opened with receivers has no outbox");
  return store.outbox;
}

/** A store writing events for receiver A, with alice's then bob's session revoked at T0. */
async function twoRevoked(fresh: FreshWithReceivers) {
  const store = await fresh([A]);
  const outbox = outboxOf(store);
  const [s1, s2] = [record("alice"), record("bob")];
  for (const s of [s1, s2]) await store.claim(s, newestWins);
  await store.end(s1.id, { at: T0, reason: "revoked", by: null });
  await store.end(s2.id, { at: T0, reason: "revoked", by: null });
  return { store, outbox, s1, s2 };
}

/** Registers the outbox tests; `fresh` gives a new, empty store writing events for the given receivers. */
export function outboxContract(fresh: FreshWithReceivers): void {
  describe("outbox", () => {
    it("gets one event per receiver with every end: replaced by a claim, end, endAll", async () => {
      const store = await fresh(RECEIVERS);
      const outbox = outboxOf(store);
      expect(outbox.receivers).toEqual(RECEIVERS);
      const first = record("alice");
      const second = record("alice", T0 + 1);
      await store.claim(first, newestWins);
      expect(await outbox.depth()).toBe(0); // a login ends nothing
      await store.claim(second, policy("newest-wins", T0 + 1));
      const bob1 = record("bob");
      const bob2 = record("bob");
      await store.claim(bob1, policy({ maxSessions: 3 }));
      await store.claim(bob2, policy({ maxSessions: 3 }));
      await store.end(second.id, { at: T0 + 2, reason: "logout", by: null });
      await store.endAll("bob", { at: T0 + 3, reason: "revoked", by: null });
      // Nothing live to end: no event.
      await store.end(second.id, { at: T0 + 4, reason: "revoked", by: null });
      await store.endAll("nobody", { at: T0 + 4, reason: "revoked", by: null });

      const events = await outbox.list({ receiver: A });
      const rows = events.map((e) => [e.sessionId, e.userId, e.end.reason]);
      expect(rows.slice(0, 2)).toEqual([
        [first.id, "alice", "replaced"],
        [second.id, "alice", "logout"],
      ]);
      // One endAll: its two events in either order.
      expect(rows.slice(2).sort()).toEqual([bob1.id, bob2.id].sort().map((id) => [id, "bob", "revoked"]));
      expect(events[0]?.end.by?.sessionId).toBe(second.id);
      expect(events.every((e) => e.state === "pending" && e.attempts === 0 && e.lastError === null)).toBe(true);
      expect(events.every((e) => e.nextAt === e.end.at)).toBe(true);
      expect((await outbox.list({ receiver: B })).map((e) => e.sessionId)).toEqual(events.map((e) => e.sessionId));
      expect(await outbox.depth()).toBe(8);
      // Ids increase in commit order.
      const ids = (await outbox.list({})).map((e) => e.id);
      expect(new Set(ids).size).toBe(8);
    });

    it("hands out each receiver's oldest due event, one at a time, under a lease", async () => {
      const store = await fresh(RECEIVERS);
      const outbox = outboxOf(store);
      const [s1, s2] = [record("alice"), record("bob")];
      for (const s of [s1, s2]) await store.claim(s, newestWins);
      await store.end(s1.id, { at: T0 + 10, reason: "logout", by: null });
      await store.end(s2.id, { at: T0 + 20, reason: "logout", by: null });

      expect(await outbox.lease("node-1", T0 + 5, T0 + 1000)).toEqual([]); // not due before the end
      const leased = await outbox.lease("node-1", T0 + 30, T0 + 1000);
      expect(leased.map((e) => [e.receiver, e.sessionId])).toEqual([
        [A, s1.id],
        [B, s1.id],
      ]);
      // In flight: neither this node nor another gets it (or the next one) again.
      expect(await outbox.lease("node-1", T0 + 40, T0 + 1000)).toEqual([]);
      expect(await outbox.lease("node-2", T0 + 40, T0 + 1000)).toEqual([]);
      // A node that died holding the lease: once it runs out, another node takes the event.
      const taken = await outbox.lease("node-2", T0 + 1001, T0 + 2000);
      expect(taken.map((e) => e.sessionId)).toEqual([s1.id, s1.id]);
      const [ofA] = taken;
      if (!ofA) throw new Error("no event");
      expect(await outbox.delivered(ofA.id, "node-1")).toBe(false); // the lease moved on
      expect(await outbox.delivered(ofA.id, "node-2")).toBe(true);
      expect(await outbox.delivered(ofA.id, "node-2")).toBe(false);
      const next = await outbox.lease("node-2", T0 + 1002, T0 + 3000);
      expect(next.map((e) => [e.receiver, e.sessionId])).toEqual([[A, s2.id]]); // B's first is still leased
      expect(await outbox.depth()).toBe(3);
    });

    it("retries a failed event later and keeps the receiver's order; a dead event steps aside and can be retried", async () => {
      const { outbox, s2 } = await twoRevoked(fresh);

      const [first] = await outbox.lease("n", T0, T0 + 100);
      if (!first) throw new Error("no event");
      expect(await outbox.failed(first.id, "other", { nextAt: T0 + 500, dead: false, error: "http_503" })).toBe(false);
      expect(await outbox.failed(first.id, "n", { nextAt: T0 + 500, dead: false, error: "http_503" })).toBe(true);
      // Not due yet, and the next event waits behind it.
      expect(await outbox.lease("n", T0 + 499, T0 + 600)).toEqual([]);
      const [again] = await outbox.lease("n", T0 + 500, T0 + 600);
      expect(again).toMatchObject({ id: first.id, attempts: 1, lastError: "http_503", state: "pending" });

      expect(await outbox.failed(first.id, "n", { nextAt: 0, dead: true, error: "timeout" })).toBe(true);
      expect(await outbox.list({ state: "dead" })).toMatchObject([{ id: first.id, attempts: 2, lastError: "timeout" }]);
      expect(await outbox.depth()).toBe(1);
      const [second] = await outbox.lease("n", T0 + 600, T0 + 700);
      expect(second?.sessionId).toBe(s2.id);
      if (!second) throw new Error("no event");
      await outbox.delivered(second.id, "n");

      expect(await outbox.retry(second.id, T0 + 800)).toBe(false); // not dead (delivered)
      expect(await outbox.retry("999999", T0 + 800)).toBe(false);
      expect(await outbox.retry(first.id, T0 + 800)).toBe(true);
      expect(await outbox.retry(first.id, T0 + 800)).toBe(false); // already back in line
      const [revived] = await outbox.lease("n", T0 + 800, T0 + 900);
      expect(revived).toMatchObject({ id: first.id, attempts: 0, state: "pending", lastError: null });
    });

    it("purges dead events past the audit retention, keeps pending ones", async () => {
      const { store, outbox, s2 } = await twoRevoked(fresh);
      const [first] = await outbox.lease("n", T0, T0 + 100);
      if (!first) throw new Error("no event");
      await outbox.failed(first.id, "n", { nextAt: 0, dead: true, error: "http_410" });
      await store.purge(T0 - HOUR, T0 + 1);
      expect((await outbox.list({})).map((e) => [e.sessionId, e.state])).toEqual([[s2.id, "pending"]]);
    });

    it("refuses every call after close with store_unavailable", async () => {
      const store = await fresh([A]);
      const outbox = outboxOf(store);
      await store.close();
      await expect(outbox.lease("n", T0, T0 + 1)).rejects.toSatisfy(
        (e) => e instanceof SoloError && e.code === "store_unavailable",
      );
      await expect(outbox.depth()).rejects.toSatisfy((e) => e instanceof SoloError && e.code === "store_unavailable");
    });
  });
}
