import { afterEach, describe, expect, it, vi } from "vitest";
import { SoloError } from "../../server/errors.js";
import { decide, type PolicySpec } from "../../server/policy.js";
import {
  type AuditKind,
  type Decide,
  type DeviceInfo,
  type NewAuditEvent,
  REPLACED_TOMBSTONES_PER_USER,
  type SessionRecord,
  type SessionStore,
} from "../../server/store/types.js";

const T0 = Date.parse("2026-03-02T10:00:00Z");
const HOUR = 3_600_000;

const device = (name: string): DeviceInfo => ({ name, browser: "Firefox 132", os: "Windows 10", ip: "10.0.0.1" });

let seq = 0;
/** A fresh live session record. */
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

const policy =
  (spec: PolicySpec, now = T0, takeover = false): Decide =>
  (live) =>
    decide(spec, live, { now, takeover, abandonGrace: 60_000 });

const newestWins = policy("newest-wins");

function audit(kind: AuditKind, at: number, userId: string, sessionId: string | null): NewAuditEvent {
  return {
    kind,
    at,
    userId,
    sessionId,
    device: device("d"),
    node: "node-1",
    by: null,
    delivery: ["replaced", "logout", "revoked", "idle", "expired"].includes(kind) ? "pending" : null,
    detail: null,
  };
}

/**
 * The behaviour every {@link SessionStore} must have, run against each implementation
 * (memory, SQLite, Redis) with `makeStore` giving a fresh, empty store per test.
 */
export function storeContract(name: string, makeStore: () => Promise<SessionStore>): void {
  describe(`SessionStore contract: ${name}`, () => {
    const open: SessionStore[] = [];
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });
    async function fresh(): Promise<SessionStore> {
      const s = await makeStore();
      open.push(s);
      return s;
    }

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
        const second = await store.queryAudit({ limit: 5, before: first[4]?.id as string });
        expect(second.map((e) => e.id)).toEqual(ids.slice(2, 7).reverse());
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

    it("answers ping while open", async () => {
      const store = await fresh();
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
