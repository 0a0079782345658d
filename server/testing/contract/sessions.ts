/**
 * The contract of a session's life after its claim: reading, listing, ending, activity,
 * staleness and purging.
 *
 * @module
 */

import { describe, expect, it } from "vitest";
import { SoloError } from "../../errors/solo-error.js";
import type { SessionRecord } from "../../store/types.js";
import { audit, type Fresh, HOUR, newestWins, policy, record, T0 } from "./fixtures.js";

/** Registers the tests of everything but claim and audit; `fresh` gives a new, empty store. */
export function sessionsContract(fresh: Fresh): void {
  describe("get and listLive", () => {
    it("returns null for an unknown id and lists live sessions oldest first", async () => {
      const store = await fresh();
      expect(await store.get("nope")).toBeNull();
      expect(await store.listLive("nobody")).toEqual([]);
      const max = policy({ maxSessions: 5 });
      const b = record("alice", T0 + 10);
      const a = record("alice", T0);
      await store.claim(b, max);
      await store.claim(a, max);
      expect((await store.listLive("alice")).map((s) => s.id)).toEqual([a.id, b.id]);
    });
  });

  describe("listAllLive", () => {
    it("pages newest first, ties broken by id, without gaps or repeats", async () => {
      const store = await fresh();
      const made: SessionRecord[] = [];
      for (let i = 0; i < 23; i++) {
        // Several sessions share a createdAt, so the cursor must break ties.
        const s = record(`user-${i % 7}`, T0 + Math.floor(i / 3));
        await store.claim(s, policy({ maxSessions: 10 }));
        made.push(s);
      }
      const ended = made[4] as SessionRecord;
      await store.end(ended.id, { at: T0 + 50, reason: "revoked", by: null });
      const expected = made
        .filter((s) => s.id !== ended.id)
        .sort((x, y) => y.createdAt - x.createdAt || (y.id < x.id ? -1 : 1))
        .map((s) => s.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await store.listAllLive({ limit: 5, ...(cursor ? { cursor } : {}) });
        expect(result.sessions.length).toBeLessThanOrEqual(5);
        seen.push(...result.sessions.map((s) => s.id));
        if (!result.next) break;
        cursor = result.next;
      }
      expect(seen).toEqual(expected);
    });

    it("filters by user and refuses a malformed cursor with invalid_request", async () => {
      const store = await fresh();
      const a = record("alice");
      await store.claim(a, newestWins);
      await store.claim(record("bob"), newestWins);
      const page = await store.listAllLive({ userId: "alice" });
      expect(page).toEqual({ sessions: [a], next: null });
      const error = await store.listAllLive({ cursor: "%%%not-a-cursor" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SoloError);
      expect((error as SoloError).code).toBe("invalid_request");
    });
  });

  describe("end and endAll", () => {
    it("ends a live session once; ending it again or ending an unknown one returns null", async () => {
      const store = await fresh();
      const s = record("alice");
      await store.claim(s, newestWins);
      const end = { at: T0 + 5, reason: "logout" as const, by: null };
      expect(await store.end(s.id, end)).toEqual({ ...s, ended: end });
      expect(await store.end(s.id, { ...end, reason: "revoked" })).toBeNull();
      expect(await store.end("unknown", end)).toBeNull();
      expect((await store.get(s.id))?.ended).toEqual(end);
      expect(await store.listLive("alice")).toEqual([]);
      expect(await store.countLive()).toBe(0);
    });

    it("endAll ends every live session of one user and no one else's", async () => {
      const store = await fresh();
      const max = policy({ maxSessions: 5 });
      const a1 = record("alice");
      const a2 = record("alice", T0 + 1);
      const b = record("bob");
      for (const s of [a1, a2, b]) await store.claim(s, max);
      const end = { at: T0 + 9, reason: "revoked" as const, by: null };
      const ended = await store.endAll("alice", end);
      expect(ended.map((s) => s.id).sort()).toEqual([a1.id, a2.id].sort());
      expect(ended.every((s) => s.ended?.reason === "revoked")).toBe(true);
      expect(await store.endAll("alice", end)).toEqual([]);
      expect(await store.listLive("alice")).toEqual([]);
      expect(await store.listLive("bob")).toEqual([b]);
      expect(await store.countLive()).toBe(1);
    });

    it("a claim racing endAll never leaves a session of the losing side half-ended", async () => {
      const store = await fresh();
      await store.claim(record("alice"), newestWins);
      const next = record("alice", T0 + 1);
      const [, ended] = await Promise.all([
        store.claim(next, newestWins),
        store.endAll("alice", { at: T0 + 2, reason: "logout", by: null }),
      ]);
      const live = await store.listLive("alice");
      // Either the claim came first (endAll ended both) or endAll came first (the new one is live).
      if (ended.some((s) => s.id === next.id)) expect(live).toEqual([]);
      else expect(live.map((s) => s.id)).toEqual([next.id]);
      expect(await store.countLive()).toBe(live.length);
    });
  });

  describe("touch and markPresence", () => {
    it("touch moves lastSeenAt forward only, and not on an ended session", async () => {
      const store = await fresh();
      const s = record("alice");
      await store.claim(s, newestWins);
      await store.touch(s.id, T0 + 100);
      await store.touch(s.id, T0 + 50);
      expect((await store.get(s.id))?.lastSeenAt).toBe(T0 + 100);
      await store.end(s.id, { at: T0 + 200, reason: "logout", by: null });
      await store.touch(s.id, T0 + 300);
      expect((await store.get(s.id))?.lastSeenAt).toBe(T0 + 100);
      await store.touch("unknown", T0);
    });

    it("markPresence moves presenceAt forward only, on live sessions only", async () => {
      const store = await fresh();
      const max = policy({ maxSessions: 5 });
      const a = record("alice");
      const b = record("bob");
      const c = record("carol");
      for (const s of [a, b, c]) await store.claim(s, max);
      await store.end(c.id, { at: T0 + 1, reason: "logout", by: null });
      await store.markPresence([], T0);
      await store.markPresence([a.id, b.id, c.id, "unknown"], T0 + 100);
      await store.markPresence([a.id], T0 + 50);
      expect((await store.get(a.id))?.presenceAt).toBe(T0 + 100);
      expect((await store.get(b.id))?.presenceAt).toBe(T0 + 100);
      expect((await store.get(c.id))?.presenceAt).toBeNull();
    });
  });

  describe("findStale", () => {
    it("finds live sessions past their expiry or idle deadline, up to the limit", async () => {
      const store = await fresh();
      const max = policy({ maxSessions: 10 });
      const fresh1 = record("u1", T0);
      const idle = record("u2", T0 - 40 * 60_000);
      const expired = record("u3", T0 - 9 * HOUR, { lastSeenAt: T0 });
      const endedIdle = record("u4", T0 - 40 * 60_000);
      for (const s of [fresh1, idle, expired, endedIdle]) await store.claim(s, max);
      await store.end(endedIdle.id, { at: T0, reason: "logout", by: null });
      await store.touch(fresh1.id, T0 + 1000);
      const now = T0 + 2000;
      const stale = await store.findStale(now, now - 30 * 60_000, 10);
      expect(stale.map((s) => s.id).sort()).toEqual([idle.id, expired.id].sort());
      expect(await store.findStale(now, now - 30 * 60_000, 1)).toHaveLength(1);
      // Activity takes a session off the idle list.
      await store.touch(idle.id, now);
      expect((await store.findStale(now, now - 30 * 60_000, 10)).map((s) => s.id)).toEqual([expired.id]);
    });
  });

  describe("purge", () => {
    it("forgets ended sessions whose token expired before the cutoff, and old audit events", async () => {
      const store = await fresh();
      const max = policy({ maxSessions: 10 });
      const old = record("alice", T0 - 10 * HOUR);
      const recent = record("bob", T0);
      const live = record("carol", T0 - 10 * HOUR);
      for (const s of [old, recent, live]) await store.claim(s, max);
      await store.end(old.id, { at: T0, reason: "logout", by: null });
      await store.end(recent.id, { at: T0, reason: "logout", by: null });
      await store.appendAudit(audit("login", T0 - 5000, "alice", old.id));
      await store.appendAudit(audit("logout", T0 + 5000, "alice", old.id));
      const n = await store.purge(T0, T0);
      expect(n).toBe(1);
      expect(await store.get(old.id)).toBeNull();
      expect(await store.get(recent.id)).not.toBeNull();
      expect(await store.get(live.id)).not.toBeNull();
      expect((await store.queryAudit({})).map((e) => e.kind)).toEqual(["logout"]);
      expect(await store.purge(T0, T0)).toBe(0);
    });
  });
}
