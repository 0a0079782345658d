import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ErrorBody, LoginResponse, SessionView } from "../../protocol/index.js";
import { call, handshakeError, login, nextDisconnect, nextRevocation, UA } from "../support/client.js";
import { MINUTE, manualClock, SECOND } from "../support/clock.js";
import { type TestRedis, uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import { disconnectHandled, type TestServer, type TestServerOptions } from "../support/server.js";

const resources = testResources();
const { socketFor } = resources;

/** Every policy is tested on both durable stores: SQLite (embedded) and Redis (several nodes). */
const STORES = ["sqlite", "redis"] as const;
const shared = testResources("all");
let redis: TestRedis;
beforeAll(async () => {
  redis = await shared.redis();
});

function serverOn(kind: (typeof STORES)[number], options: TestServerOptions): Promise<TestServer> {
  const storeOptions =
    kind === "redis" ? { store: "redis" as const, redis: { url: redis.url, keyPrefix: uniquePrefix("pol") } } : {};
  return resources.server({ ...storeOptions, ...options });
}

/** A login expected to be refused; returns status and body. */
async function refusedLogin(url: string, body: Record<string, unknown>) {
  try {
    await login(url, body, { "user-agent": UA.firefoxWindows });
  } catch (error) {
    const e = error as { status: number; body: ErrorBody };
    return { status: e.status, body: e.body };
  }
  throw new Error("login was admitted");
}

const alice = { username: "alice", password: "demo" };

describe.each(STORES)("with the %s store", (kind) => {
  const server = (options: TestServerOptions) => serverOn(kind, options);

  describe("oldest-wins", () => {
    it("refuses a second login with 409 session_active naming the active device and since when", async () => {
      const clock = manualClock();
      const srv = await server({ policy: "oldest-wins", clock: clock.now });
      const first = await login(srv.url, { ...alice, device: { name: "Desk" } });
      await socketFor(srv.url, first.token);
      clock.advance(30 * SECOND);
      const refused = await refusedLogin(srv.url, alice);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe("session_active");
      expect(refused.body.takeover).toBe(false);
      const active = refused.body.active as SessionView;
      expect(active.id).toBe(first.session.id);
      expect(active.device.name).toBe("Desk");
      expect(active.createdAt).toBe(first.session.createdAt);
      // The first session is untouched.
      expect((await call(srv.url, "/auth/session", first.token)).status).toBe(200);
    });

    it("keeps refusing while the first device holds a live socket, however long", async () => {
      const clock = manualClock();
      const srv = await server({ policy: "oldest-wins", clock: clock.now, abandonGrace: MINUTE });
      const first = await login(srv.url);
      await socketFor(srv.url, first.token);
      for (let i = 0; i < 5; i++) {
        clock.advance(50 * SECOND);
        await srv.solo.reconcile(); // the periodic presence confirmation
        expect((await refusedLogin(srv.url, alice)).body.error).toBe("session_active");
      }
    });

    it("does not lock out a user who closed the browser: after the grace period the new login wins", async () => {
      const clock = manualClock();
      const srv = await server({ policy: "oldest-wins", clock: clock.now, abandonGrace: MINUTE });
      const first = await login(srv.url);
      const socket = await socketFor(srv.url, first.token);
      clock.advance(5 * MINUTE);
      await srv.solo.reconcile();
      const seen = disconnectHandled(srv, first.session.id); // the server records presence on the disconnect
      socket.close(); // the browser closes
      await seen;
      clock.advance(MINUTE - SECOND);
      expect((await refusedLogin(srv.url, alice)).body.error).toBe("session_active");
      clock.advance(SECOND);
      const second = await login(srv.url, alice, { "user-agent": UA.firefoxWindows });
      expect(second.replaced.map((s) => s.id)).toEqual([first.session.id]);
      const old = await call(srv.url, "/auth/session", first.token);
      expect((old.body as ErrorBody).error).toBe("session_replaced");
      expect((old.body as ErrorBody).by?.device.browser).toBe("Firefox 132");
    });

    it("treats a session that never connected a socket and made no request as abandoned after the grace", async () => {
      const clock = manualClock();
      const srv = await server({ policy: "oldest-wins", clock: clock.now, abandonGrace: MINUTE });
      await login(srv.url);
      clock.advance(MINUTE);
      const second = await login(srv.url);
      expect(second.replaced).toHaveLength(1);
    });
  });

  describe("confirm", () => {
    it("asks first (409 with the active device), then takeover replaces the old session and tells it", async () => {
      const clock = manualClock();
      const srv = await server({ policy: "confirm", clock: clock.now });
      const first = await login(srv.url, { ...alice, device: { name: "Office PC" } });
      const socket = await socketFor(srv.url, first.token);
      const refused = await refusedLogin(srv.url, alice);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe("session_active");
      expect(refused.body.takeover).toBe(true);
      expect(refused.body.active?.device.name).toBe("Office PC");

      const revoked = nextRevocation(socket);
      const second = await login(srv.url, { ...alice, takeover: true }, { "user-agent": UA.firefoxWindows });
      expect(second.replaced.map((s) => s.id)).toEqual([first.session.id]);
      const notice = await revoked;
      expect(notice.reason).toBe("replaced");
      expect(notice.by?.device.os).toBe("Windows 10");
    });

    it("admits a first login without asking", async () => {
      const srv = await server({ policy: "confirm" });
      expect((await login(srv.url)).replaced).toEqual([]);
    });
  });

  describe("maxSessions and per-user policies", () => {
    it("lets admins keep three sessions while other users get newest-wins", async () => {
      const clock = manualClock();
      const srv = await server({
        clock: clock.now,
        touchInterval: SECOND,
        policy: (user) => (user.roles?.includes("admin") ? { maxSessions: 3 } : "newest-wins"),
      });
      const admin = { username: "admin", password: "admin" };
      const sessions: LoginResponse[] = [];
      for (let i = 0; i < 3; i++) {
        sessions.push(await login(srv.url, admin));
        clock.advance(10 * SECOND);
      }
      expect(sessions.every((s) => s.replaced.length === 0)).toBe(true);
      // The first session is used again, so the second is now the least recently active.
      expect((await call(srv.url, "/api/notes", sessions[0]?.token ?? null)).status).toBe(200);
      clock.advance(10 * SECOND);
      const fourth = await login(srv.url, admin);
      expect(fourth.replaced.map((s) => s.id)).toEqual([sessions[1]?.session.id]);
      for (const [i, expected] of [
        [0, 200],
        [1, 401],
        [2, 200],
      ] as const) {
        expect((await call(srv.url, "/auth/session", sessions[i]?.token ?? null)).status).toBe(expected);
      }

      const a1 = await login(srv.url);
      const a2 = await login(srv.url);
      expect(a2.replaced.map((s) => s.id)).toEqual([a1.session.id]);
    });
  });

  describe("idle and absolute timeouts", () => {
    it("ends an idle session: pushes reason idle, then 401 session_idle", async () => {
      const clock = manualClock();
      const srv = await server({ clock: clock.now, idleTimeout: 30 * MINUTE });
      const first = await login(srv.url);
      const socket = await socketFor(srv.url, first.token);
      const revoked = nextRevocation(socket);
      clock.advance(29 * MINUTE);
      expect(await srv.solo.sweep()).toBe(0);
      clock.advance(MINUTE);
      expect(await srv.solo.sweep()).toBe(1);
      expect((await revoked).reason).toBe("idle");
      const after = await call(srv.url, "/auth/session", first.token);
      expect(after.status).toBe(401);
      expect((after.body as ErrorBody).error).toBe("session_idle");
    });

    it("counts API requests as activity, written at most once per touch interval", async () => {
      const clock = manualClock();
      const srv = await server({ clock: clock.now, idleTimeout: 30 * MINUTE, touchInterval: MINUTE });
      const first = await login(srv.url);
      clock.advance(20 * MINUTE);
      expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200);
      const touched = (await srv.solo.store.get(first.session.id))?.lastSeenAt;
      expect(touched).toBe(clock.now());
      clock.advance(30 * SECOND);
      expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200);
      expect((await srv.solo.store.get(first.session.id))?.lastSeenAt).toBe(touched); // not written again yet
      clock.advance(29 * MINUTE);
      expect(await srv.solo.sweep()).toBe(0);
      expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200);
    });

    it("treats an open socket as presence, not activity; the SDK's activity signal counts", async () => {
      const clock = manualClock();
      const srv = await server({ clock: clock.now, idleTimeout: 30 * MINUTE, touchInterval: MINUTE });
      const quiet = await login(srv.url, { username: "bob", password: "demo" });
      const busy = await login(srv.url, { username: "carol", password: "demo" });
      const quietSocket = await socketFor(srv.url, quiet.token);
      const busySocket = await socketFor(srv.url, busy.token);
      clock.advance(20 * MINUTE);
      await srv.solo.reconcile();
      busySocket.emit("session:activity");
      await vi.waitFor(async () => expect((await srv.solo.store.get(busy.session.id))?.lastSeenAt).toBe(clock.now()));
      const quietRevoked = nextRevocation(quietSocket);
      clock.advance(10 * MINUTE);
      expect(await srv.solo.sweep()).toBe(1);
      expect((await quietRevoked).reason).toBe("idle");
      expect(busySocket.connected).toBe(true);
      expect((await call(srv.url, "/auth/session", busy.token)).status).toBe(200);
    });

    it("does not revive an idle session with a late activity signal", async () => {
      const clock = manualClock();
      const srv = await server({ clock: clock.now, idleTimeout: 30 * MINUTE, touchInterval: MINUTE });
      const first = await login(srv.url);
      const socket = await socketFor(srv.url, first.token);
      const revoked = nextRevocation(socket);
      clock.advance(31 * MINUTE);
      socket.emit("session:activity");
      expect((await revoked).reason).toBe("idle");
    });

    it("ends a session at its absolute lifetime even when active", async () => {
      const clock = manualClock();
      const srv = await server({ clock: clock.now, idleTimeout: 30 * MINUTE, maxAge: 2 * 60 * MINUTE });
      const first = await login(srv.url);
      const socket = await socketFor(srv.url, first.token);
      for (let i = 0; i < 5; i++) {
        clock.advance(20 * MINUTE);
        expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200);
      }
      const revoked = nextRevocation(socket);
      clock.advance(20 * MINUTE);
      expect(await srv.solo.sweep()).toBe(1);
      expect((await revoked).reason).toBe("expired");
      // The token has expired with the session, and the answer still says why.
      const after = await call(srv.url, "/api/notes", first.token);
      expect(after.status).toBe(401);
      expect((after.body as ErrorBody).error).toBe("session_expired");
      expect((after.body as ErrorBody).reason).toBe("expired");
    });

    it("answers session_expired to a request that finds the lapse before the sweep, token_expired once forgotten", async () => {
      const clock = manualClock();
      const srv = await server({ clock: clock.now, maxAge: 60 * MINUTE, tombstoneRetention: 60 * MINUTE });
      const first = await login(srv.url);
      clock.advance(60 * MINUTE);
      const lapsed = await call(srv.url, "/auth/session", first.token);
      expect((lapsed.body as ErrorBody).error).toBe("session_expired");
      expect((await srv.solo.store.get(first.session.id))?.ended?.reason).toBe("expired");
      clock.advance(61 * MINUTE);
      await srv.solo.sweep(); // purges the tombstone
      expect(await srv.solo.store.get(first.session.id)).toBeNull();
      expect(((await call(srv.url, "/auth/session", first.token)).body as ErrorBody).error).toBe("token_expired");
    });

    it("tells a replaced device why even after its token expired", async () => {
      const clock = manualClock();
      const srv = await server({ clock: clock.now, maxAge: 60 * MINUTE, idleTimeout: 30 * MINUTE });
      const first = await login(srv.url);
      await login(srv.url, alice, { "user-agent": UA.firefoxWindows });
      clock.advance(2 * 60 * MINUTE);
      const res = await call(srv.url, "/auth/session", first.token);
      expect((res.body as ErrorBody).error).toBe("session_replaced");
      expect((res.body as ErrorBody).by?.device.browser).toBe("Firefox 132");
      const refused = await handshakeError(srv.url, first.token);
      expect(refused.message).toBe("session_replaced");
    });

    it("logout with scope=all ends every session of the user with reason logout", async () => {
      const srv = await server({ policy: { maxSessions: 5 } });
      const a = await login(srv.url);
      const b = await login(srv.url);
      const bob = await login(srv.url, { username: "bob", password: "demo" });
      const sa = await socketFor(srv.url, a.token);
      const sb = await socketFor(srv.url, b.token);
      const ra = nextRevocation(sa);
      const rb = nextRevocation(sb);
      const gone = nextDisconnect(sa);
      expect((await call(srv.url, "/auth/logout?scope=all", b.token, { method: "POST" })).status).toBe(204);
      expect((await ra).reason).toBe("logout");
      expect((await rb).reason).toBe("logout");
      await gone;
      for (const t of [a.token, b.token]) {
        const res = await call(srv.url, "/auth/session", t);
        expect((res.body as ErrorBody).error).toBe("session_revoked");
        expect((res.body as ErrorBody).reason).toBe("logout");
      }
      expect((await call(srv.url, "/auth/session", bob.token)).status).toBe(200);
    });
  });
});
