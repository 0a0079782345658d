import { describe, expect, it, vi } from "vitest";
import type { ErrorBody, OwnSessionsResponse, RevocationNotice } from "../../protocol/index.js";
import { call, login, nextDisconnect, nextRevocation, UA } from "../support/client.js";
import { adminToken, auditTrail, endingEvent } from "../support/ops.js";
import { testResources } from "../support/resources.js";

// "Your devices": GET /auth/sessions, DELETE /auth/sessions/:id, POST /auth/logout?scope=others.

const { server, socketFor } = testResources();
const EVIL = "https://evil.example";

/** Alice signed in on three devices (max-sessions 3), oldest first. */
async function threeDevices(url: string) {
  const laptop = await login(url, { username: "alice", password: "demo", device: { name: "Work laptop" } });
  const phone = await login(url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
  const tablet = await login(url, { username: "alice", password: "demo", device: { name: "Tablet" } });
  return { laptop, phone, tablet };
}

const cookieOf = (setCookie: string | null) => (setCookie ?? "").split(";")[0] as string;

describe("GET /auth/sessions", () => {
  it("lists the user's own live sessions, newest first, this one marked, with device, IP and times", async () => {
    const srv = await server({ policy: { maxSessions: 3 } });
    const { laptop, phone, tablet } = await threeDevices(srv.url);
    const bob = await login(srv.url, { username: "bob", password: "demo" });

    const res = await call(srv.url, "/auth/sessions", phone.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { sessions } = res.body as OwnSessionsResponse;
    expect(sessions.map((s) => s.id)).toEqual([tablet.session.id, phone.session.id, laptop.session.id]);
    expect(sessions.map((s) => s.current)).toEqual([false, true, false]);
    expect(sessions.every((s) => s.userId === "alice")).toBe(true);
    expect(sessions.some((s) => s.id === bob.session.id)).toBe(false);
    expect(sessions[1]).toMatchObject({
      device: { name: null, browser: "Firefox 132", os: "Windows 10", ip: "127.0.0.1" },
      createdAt: phone.session.createdAt,
      expiresAt: phone.session.expiresAt,
    });
    expect(sessions[2]?.device.name).toBe("Work laptop");
    expect(Date.parse(sessions[0]?.lastSeenAt ?? "")).toBeGreaterThanOrEqual(Date.parse(tablet.session.createdAt));

    // The same list on the cookie alone (a GET needs no Origin check), marked from that session.
    const byCookie = await call(srv.url, "/auth/sessions", null, { headers: { cookie: cookieOf(laptop.cookie) } });
    expect(byCookie.status).toBe(200);
    expect((byCookie.body as OwnSessionsResponse).sessions.find((s) => s.current)?.id).toBe(laptop.session.id);
    // Bob sees only his own.
    const bobs = (await call(srv.url, "/auth/sessions", bob.token)).body as OwnSessionsResponse;
    expect(bobs.sessions.map((s) => s.id)).toEqual([bob.session.id]);
  });

  it("is refused without a live session: missing_token, invalid_token, or the reason it ended", async () => {
    const srv = await server();
    const first = await login(srv.url);
    await login(srv.url);
    const none = await call(srv.url, "/auth/sessions", null);
    expect(none.status).toBe(401);
    expect((none.body as ErrorBody).error).toBe("missing_token");
    const junk = await call(srv.url, "/auth/sessions", "not-a-token");
    expect((junk.body as ErrorBody).error).toBe("invalid_token");
    const replaced = await call(srv.url, "/auth/sessions", first.token);
    expect(replaced.status).toBe(401);
    expect((replaced.body as ErrorBody).error).toBe("session_replaced");
  });
});

describe("DELETE /auth/sessions/:id", () => {
  it("ends one of the user's own sessions: its device is told at once (revoked), the others live on", async () => {
    const srv = await server({ policy: { maxSessions: 3 } });
    const { laptop, phone, tablet } = await threeDevices(srv.url);
    const phoneSocket = await socketFor(srv.url, phone.token);
    const told = nextRevocation(phoneSocket);
    const gone = nextDisconnect(phoneSocket);

    const res = await call(srv.url, `/auth/sessions/${encodeURIComponent(phone.session.id)}`, laptop.token, {
      method: "DELETE",
    });
    expect(res.status).toBe(204);
    const notice: RevocationNotice = await told;
    expect(notice).toMatchObject({ reason: "revoked", sessionId: phone.session.id });
    expect(notice.dispute).toBeUndefined();
    expect(await gone).toBe("io server disconnect");

    const after = await call(srv.url, "/auth/session", phone.token);
    expect((after.body as ErrorBody).error).toBe("session_revoked");
    expect((after.body as ErrorBody).dispute).toBeUndefined();
    for (const live of [laptop, tablet]) expect((await call(srv.url, "/auth/session", live.token)).status).toBe(200);
    const list = (await call(srv.url, "/auth/sessions", laptop.token)).body as OwnSessionsResponse;
    expect(list.sessions.map((s) => s.id)).toEqual([tablet.session.id, laptop.session.id]);

    // Audited as ended by alice, from the laptop (its session and device).
    const admin = await adminToken(srv.url);
    await vi.waitFor(async () =>
      expect((await endingEvent(srv.url, admin, phone.session.id))?.by).toMatchObject({
        userId: "alice",
        sessionId: laptop.session.id,
        device: { name: "Work laptop" },
      }),
    );
    expect((await endingEvent(srv.url, admin, phone.session.id))?.kind).toBe("revoked");
  });

  it("answers 404 not_found, the same for all, for another user's session, an unknown, an ended or an absurd id", async () => {
    const srv = await server({ policy: { maxSessions: 3 } });
    const alice = await login(srv.url);
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    const bobSocket = await socketFor(srv.url, bob.token);
    let bobTold = false;
    bobSocket.on("session:revoked", () => {
      bobTold = true;
    });
    const ended = await login(srv.url);
    await call(srv.url, "/auth/logout", ended.token, { method: "POST" });

    const bodies: unknown[] = [];
    for (const id of [bob.session.id, "no-such-session", ended.session.id, "x".repeat(600), "%E2%82%AC"]) {
      const res = await call(srv.url, `/auth/sessions/${id}`, alice.token, { method: "DELETE" });
      expect(res.status, id).toBe(404);
      bodies.push(res.body);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect((bodies[0] as ErrorBody).error).toBe("not_found");
    expect((await call(srv.url, "/auth/session", bob.token)).status).toBe(200);
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(200);
    expect(bobSocket.connected).toBe(true);
    expect(bobTold).toBe(false);
  });

  it("checks the Origin of a cookie-carried token (CSRF): a foreign page ends nothing; a bearer token is not ambient", async () => {
    const srv = await server({ policy: { maxSessions: 3 } });
    const { laptop, phone, tablet } = await threeDevices(srv.url);
    const cookie = cookieOf(laptop.cookie);
    const path = `/auth/sessions/${encodeURIComponent(phone.session.id)}`;
    for (const origin of [EVIL, "null"]) {
      const forged = await call(srv.url, path, null, { method: "DELETE", headers: { cookie, origin } });
      expect(forged.status, origin).toBe(403);
      expect((forged.body as ErrorBody).error, origin).toBe("origin_not_allowed");
    }
    const crossSite = await call(srv.url, path, null, {
      method: "DELETE",
      headers: { cookie, "sec-fetch-site": "cross-site" },
    });
    expect((crossSite.body as ErrorBody).error).toBe("origin_not_allowed");
    expect((await call(srv.url, "/auth/session", phone.token)).status).toBe(200);

    const own = await call(srv.url, path, null, { method: "DELETE", headers: { cookie, origin: srv.url } });
    expect(own.status).toBe(204);
    expect((await call(srv.url, "/auth/session", phone.token)).status).toBe(401);
    // A bearer token is sent by code that holds it, never by the browser on its own: no Origin check.
    const bearer = await call(srv.url, `/auth/sessions/${encodeURIComponent(tablet.session.id)}`, laptop.token, {
      method: "DELETE",
      headers: { origin: EVIL },
    });
    expect(bearer.status).toBe(204);
  });

  it("ending this very session works like a logout: the cookie is cleared", async () => {
    const srv = await server();
    const alice = await login(srv.url);
    const cookie = cookieOf(alice.cookie);
    const res = await fetch(`${srv.url}/auth/sessions/${encodeURIComponent(alice.session.id)}`, {
      method: "DELETE",
      headers: { cookie, origin: srv.url },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/^solo_session=;/);
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(401);
  });
});

describe("POST /auth/logout?scope=others", () => {
  it("ends every other session of the user (revoked, told at once) and keeps this one and its cookie", async () => {
    const srv = await server({ policy: { maxSessions: 3 } });
    const { laptop, phone, tablet } = await threeDevices(srv.url);
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    const sockets = [await socketFor(srv.url, laptop.token), await socketFor(srv.url, tablet.token)];
    const told = sockets.map((s) => nextRevocation(s));

    const res = await fetch(`${srv.url}/auth/logout?scope=others`, {
      method: "POST",
      headers: { authorization: `Bearer ${phone.token}` },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toBeNull();
    for (const notice of await Promise.all(told)) {
      expect(notice.reason).toBe("revoked");
      expect(notice.dispute).toBeUndefined();
    }
    expect((await call(srv.url, "/auth/session", phone.token)).status).toBe(200);
    expect((await call(srv.url, "/auth/session", bob.token)).status).toBe(200);
    for (const ended of [laptop, tablet]) {
      expect(((await call(srv.url, "/auth/session", ended.token)).body as ErrorBody).error).toBe("session_revoked");
    }
    const list = (await call(srv.url, "/auth/sessions", phone.token)).body as OwnSessionsResponse;
    expect(list.sessions.map((s) => [s.id, s.current])).toEqual([[phone.session.id, true]]);

    const admin = await adminToken(srv.url);
    await vi.waitFor(async () =>
      expect((await auditTrail(srv.url, admin, { user: "alice" })).filter((e) => e.kind === "revoked")).toHaveLength(2),
    );
    for (const e of (await auditTrail(srv.url, admin, { user: "alice" })).filter((e) => e.kind === "revoked")) {
      expect(e.by).toMatchObject({ userId: "alice", sessionId: phone.session.id, device: { browser: "Firefox 132" } });
    }
    // With nothing else to end it is still done.
    expect((await call(srv.url, "/auth/logout?scope=others", phone.token, { method: "POST" })).status).toBe(204);
  });

  it("needs this session live, checks the Origin of a cookie, and refuses an unknown scope", async () => {
    const srv = await server({ policy: { maxSessions: 3 } });
    const { laptop, phone } = await threeDevices(srv.url);
    const cookie = cookieOf(laptop.cookie);
    const forged = await call(srv.url, "/auth/logout?scope=others", null, {
      method: "POST",
      headers: { cookie, origin: EVIL },
    });
    expect((forged.body as ErrorBody).error).toBe("origin_not_allowed");
    const bogus = await call(srv.url, "/auth/logout?scope=everyone", laptop.token, { method: "POST" });
    expect(bogus.status).toBe(400);
    expect((bogus.body as ErrorBody).error).toBe("invalid_request");
    expect((await call(srv.url, "/auth/session", phone.token)).status).toBe(200);

    await call(srv.url, "/auth/logout", laptop.token, { method: "POST" });
    const ended = await call(srv.url, "/auth/logout?scope=others", laptop.token, { method: "POST" });
    expect(ended.status).toBe(401);
    expect((ended.body as ErrorBody).error).toBe("session_revoked");
    expect((await call(srv.url, "/auth/session", phone.token)).status).toBe(200);
    const none = await call(srv.url, "/auth/logout?scope=others", null, { method: "POST" });
    expect((none.body as ErrorBody).error).toBe("missing_token");
  });
});
