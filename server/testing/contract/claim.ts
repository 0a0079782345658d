/**
 * The contract of `claim`: what a policy's verdict leaves behind, atomically under races, and
 * the bounded `replaced` tombstones.
 *
 * @module
 */

import { describe, expect, it, vi } from "vitest";
import { REPLACED_TOMBSTONES_PER_USER, type SessionRecord } from "../../store/types.js";
import { type Fresh, newestWins, policy, record, T0 } from "./fixtures.js";

/** Registers the claim tests; `fresh` gives a new, empty store (closed after the test). */
export function claimContract(fresh: Fresh): void {
  describe("claim", () => {
    it("admits the first session of a user and stores it as given", async () => {
      const store = await fresh();
      const s = record("alice");
      const result = await store.claim(s, newestWins);
      expect(result).toEqual({ kind: "admitted", session: s, evicted: [] });
      expect(await store.get(s.id)).toEqual(s);
      expect(await store.listLive("alice")).toEqual([s]);
      expect(await store.countLive()).toBe(1);
    });

    it("under newest-wins ends the old session as replaced, naming who replaced it", async () => {
      const store = await fresh();
      const old = record("alice", T0);
      await store.claim(old, newestWins);
      const next = record("alice", T0 + 1000);
      const result = await store.claim(next, policy("newest-wins", T0 + 1000));
      expect(result.kind).toBe("admitted");
      if (result.kind !== "admitted") return;
      const ended = {
        at: next.createdAt,
        reason: "replaced",
        by: { sessionId: next.id, device: next.device, at: next.createdAt },
      };
      expect(result.evicted).toEqual([{ ...old, ended }]);
      expect(await store.get(old.id)).toEqual({ ...old, ended });
      expect(await store.listLive("alice")).toEqual([next]);
      expect(await store.countLive()).toBe(1);
    });

    it("changes nothing when the policy refuses, and returns the blocking session", async () => {
      const store = await fresh();
      const first = record("alice");
      await store.claim(first, newestWins);
      const second = record("alice", T0 + 1000);
      const result = await store.claim(second, policy("oldest-wins", T0 + 1000));
      expect(result).toEqual({ kind: "refused", active: first });
      expect(await store.get(second.id)).toBeNull();
      expect(await store.listLive("alice")).toEqual([first]);
      expect(await store.countLive()).toBe(1);
    });

    it("keeps users apart", async () => {
      const store = await fresh();
      const a = record("alice");
      const b = record("bob");
      await store.claim(a, newestWins);
      await store.claim(b, newestWins);
      expect(await store.listLive("alice")).toEqual([a]);
      expect(await store.listLive("bob")).toEqual([b]);
      expect(await store.countLive()).toBe(2);
    });

    it("under maxSessions evicts the least recently active beyond the limit", async () => {
      const store = await fresh();
      const max2 = policy({ maxSessions: 2 });
      const a = record("alice", T0, { lastSeenAt: T0 + 500 });
      const b = record("alice", T0 + 100);
      await store.claim(a, max2);
      await store.claim(b, max2);
      const c = record("alice", T0 + 200);
      const result = await store.claim(c, max2);
      expect(result.kind === "admitted" && result.evicted.map((s) => s.id)).toEqual([b.id]);
      expect((await store.listLive("alice")).map((s) => s.id)).toEqual([a.id, c.id]);
    });

    it("is atomic: 20 simultaneous newest-wins claims leave exactly one live session and no lost update", async () => {
      const store = await fresh();
      const racers = Array.from({ length: 20 }, (_, i) => record("alice", T0 + i));
      const results = await Promise.all(racers.map((s) => store.claim(s, newestWins)));
      expect(results.every((r) => r.kind === "admitted")).toBe(true);
      const live = await store.listLive("alice");
      expect(live).toHaveLength(1);
      const winner = live[0] as SessionRecord;
      // Every loser was ended as replaced by a session that really existed, exactly once.
      const evictions = results.flatMap((r) => (r.kind === "admitted" ? r.evicted.map((e) => e.id) : []));
      expect(evictions).toHaveLength(19);
      expect(new Set(evictions).size).toBe(19);
      expect(evictions).not.toContain(winner.id);
      for (const s of racers.filter((r) => r.id !== winner.id)) {
        const got = await store.get(s.id);
        expect(got?.ended?.reason).toBe("replaced");
        expect(racers.map((r) => r.id)).toContain(got?.ended?.by?.sessionId);
      }
      expect(await store.countLive()).toBe(1);
    });

    it("is atomic under a refusing policy: of simultaneous oldest-wins claims exactly one is admitted", async () => {
      const store = await fresh();
      const racers = Array.from({ length: 10 }, () => record("alice"));
      const results = await Promise.all(racers.map((s) => store.claim(s, policy("oldest-wins"))));
      expect(results.filter((r) => r.kind === "admitted")).toHaveLength(1);
      expect(await store.listLive("alice")).toHaveLength(1);
    });

    it("is atomic under maxSessions: simultaneous claims never leave more than the limit", async () => {
      const store = await fresh();
      const racers = Array.from({ length: 12 }, (_, i) => record("alice", T0 + i));
      await Promise.all(racers.map((s) => store.claim(s, policy({ maxSessions: 3 }))));
      expect(await store.listLive("alice")).toHaveLength(3);
      expect(await store.countLive()).toBe(3);
    });
  });

  describe("bounded tombstones", () => {
    it(`keeps a user's newest ${REPLACED_TOMBSTONES_PER_USER} replaced sessions and deletes older ones on claim; other ends and other users are kept`, async () => {
      const store = await fresh();
      const cap = REPLACED_TOMBSTONES_PER_USER;
      // A session that ended another way, and another user's replaced session: not counted.
      const loggedOut = record("alice", T0 - 2000);
      await store.claim(loggedOut, newestWins);
      await store.end(loggedOut.id, { at: T0 - 1000, reason: "logout", by: null });
      const bob1 = record("bob", T0 - 2000);
      const bob2 = record("bob", T0 - 1000);
      await store.claim(bob1, newestWins);
      await store.claim(bob2, policy("newest-wins", T0 - 1000));

      const alice: SessionRecord[] = [];
      for (let i = 0; i < cap + 6; i++) {
        const s = record("alice", T0 + i * 1000);
        alice.push(s);
        expect((await store.claim(s, policy("newest-wins", s.createdAt))).kind).toBe("admitted");
      }
      // cap + 5 were replaced: the 5 oldest go (the deletion may finish just after the claim).
      const gone = alice.slice(0, 5);
      await vi.waitFor(
        async () => {
          for (const s of gone) expect(await store.get(s.id), s.id).toBeNull();
        },
        { timeout: 2000, interval: 20 },
      );
      for (const s of alice.slice(5, cap + 5)) expect((await store.get(s.id))?.ended?.reason, s.id).toBe("replaced");
      expect((await store.get(alice[cap + 5]?.id as string))?.ended).toBeNull();
      expect((await store.listLive("alice")).map((s) => s.id)).toEqual([alice[cap + 5]?.id]);
      expect((await store.get(loggedOut.id))?.ended?.reason).toBe("logout");
      expect((await store.get(bob1.id))?.ended?.reason).toBe("replaced");
      expect((await store.get(bob2.id))?.ended).toBeNull();

      // A claim that replaces several at once (maxSessions lowered) still leaves the newest cap.
      const many = policy({ maxSessions: 3 });
      const carol: SessionRecord[] = [];
      for (let i = 0; i < cap + 3; i++) {
        const s = record("carol", T0 + i * 1000);
        carol.push(s);
        await store.claim(s, policy({ maxSessions: cap + 3 }, s.createdAt));
      }
      const last = record("carol", T0 + (cap + 3) * 1000);
      const result = await store.claim(last, many);
      expect(result.kind === "admitted" && result.evicted.length).toBe(cap + 1);
      await vi.waitFor(
        async () => {
          let kept = 0;
          for (const s of carol) if ((await store.get(s.id))?.ended?.reason === "replaced") kept++;
          expect(kept).toBe(cap);
        },
        { timeout: 2000, interval: 20 },
      );
      expect(await store.listLive("carol")).toHaveLength(3);
    });
  });
}
