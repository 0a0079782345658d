import { describe, expect, it, vi } from "vitest";
import type {
  AdminEndResponse,
  AdminSessionsResponse,
  AuditEventView,
  DeliveryUpdate,
  ErrorBody,
} from "../../protocol/index.js";
import { call, login, nextDisconnect, nextRevocation, UA } from "../support/client.js";
import { adminToken, auditTrail, connectAdmin } from "../support/ops.js";
import { testResources } from "../support/resources.js";

const { server, socketFor, track } = testResources();

const ADMIN_ROUTES: [method: string, path: string][] = [
  ["GET", "/auth/admin/sessions"],
  ["GET", "/auth/admin/audit"],
  ["DELETE", "/auth/admin/sessions/some-session"],
  ["DELETE", "/auth/admin/users/alice/sessions"],
];

describe("admin API access", () => {
  it("refuses non-admins with 403 forbidden and anonymous callers with 401 missing_token, changing nothing", async () => {
    const srv = await server();
    const alice = await login(srv.url);
    for (const [method, path] of ADMIN_ROUTES) {
      const asAlice = await call(srv.url, path, alice.token, { method });
      expect(asAlice.status, `${method} ${path}`).toBe(403);
      expect((asAlice.body as ErrorBody).error, `${method} ${path}`).toBe("forbidden");
      const anonymous = await call(srv.url, path, null, { method });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect((anonymous.body as ErrorBody).error, `${method} ${path}`).toBe("missing_token");
    }
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(200);
  });

  it("refuses a replaced admin session with its code", async () => {
    const srv = await server();
    const old = await adminToken(srv.url);
    await adminToken(srv.url);
    const res = await call(srv.url, "/auth/admin/sessions", old);
    expect(res.status).toBe(401);
    expect((res.body as ErrorBody).error).toBe("session_replaced");
  });

  it("refuses a cookie-authenticated revoke from a foreign origin (CSRF) and accepts it from its own", async () => {
    const srv = await server();
    const admin = await login(srv.url, { username: "admin", password: "admin" });
    const cookie = (admin.cookie as string).split(";")[0] as string;
    const alice = await login(srv.url);
    const path = `/auth/admin/sessions/${encodeURIComponent(alice.session.id)}`;
    const foreign = await call(srv.url, path, null, {
      method: "DELETE",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect((foreign.body as ErrorBody).error).toBe("origin_not_allowed");
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(200);
    const own = await call(srv.url, path, null, { method: "DELETE", headers: { cookie, origin: srv.url } });
    expect(own.status).toBe(204);
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(401);
  });

  it("answers bad parameters with 400 invalid_request and unknown admin paths with 404 not_found", async () => {
    const srv = await server();
    const token = await adminToken(srv.url);
    for (const path of [
      "/auth/admin/sessions?limit=0",
      "/auth/admin/sessions?limit=501",
      "/auth/admin/sessions?limit=ten",
      "/auth/admin/sessions?cursor=not-a-cursor",
      "/auth/admin/sessions?user=a&user=b",
      "/auth/admin/audit?since=yesterday",
      "/auth/admin/audit?until=2026-13-45T99:00:00Z",
      "/auth/admin/audit?before=%3Cscript%3E",
      `/auth/admin/audit?user=${"x".repeat(600)}`,
    ]) {
      const res = await call(srv.url, path, token);
      expect(res.status, path).toBe(400);
      expect((res.body as ErrorBody).error, path).toBe("invalid_request");
    }
    const missing = await call(srv.url, "/auth/admin/nothing-here", token);
    expect(missing.status).toBe(404);
    expect((missing.body as ErrorBody).error).toBe("not_found");
  });
});

describe("admin API: live sessions", () => {
  it("lists live sessions with device and last activity, filtered by user and paginated", async () => {
    const srv = await server({ policy: { maxSessions: 5 } });
    const token = await adminToken(srv.url);
    const a1 = await login(srv.url, { username: "alice", password: "demo", device: { name: "Desk" } });
    const a2 = await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
    const a3 = await login(srv.url);
    const bob = await login(srv.url, { username: "bob", password: "demo" });

    const all = await call(srv.url, "/auth/admin/sessions", token);
    expect(all.status).toBe(200);
    const allIds = (all.body as AdminSessionsResponse).sessions.map((s) => s.id);
    expect(allIds).toHaveLength(5); // three of alice, bob, the admin
    expect(allIds).toContain(bob.session.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `user=alice&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await call(srv.url, `/auth/admin/sessions?${query}`, token);
      expect(res.status).toBe(200);
      const page = res.body as AdminSessionsResponse;
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      for (const s of page.sessions) expect(s.userId).toBe("alice");
      seen.push(...page.sessions.map((s) => s.id));
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([a1.session.id, a2.session.id, a3.session.id].sort());

    const desk = (all.body as AdminSessionsResponse).sessions.find((s) => s.id === a1.session.id);
    expect(desk?.device.name).toBe("Desk");
    expect(desk?.device.ip).toBe("127.0.0.1");
    expect(Date.parse(desk?.lastSeenAt ?? "")).toBeGreaterThan(0);
    const firefox = (all.body as AdminSessionsResponse).sessions.find((s) => s.id === a2.session.id);
    expect(firefox?.device.browser).toBe("Firefox 132");
  });
});

describe("admin API: ending sessions", () => {
  it("ends one session: the device gets session:revoked with reason revoked, the token is refused", async () => {
    const srv = await server();
    const token = await adminToken(srv.url);
    const alice = await login(srv.url);
    const socket = await socketFor(srv.url, alice.token);
    const revoked = nextRevocation(socket);
    const gone = nextDisconnect(socket);

    const res = await call(srv.url, `/auth/admin/sessions/${encodeURIComponent(alice.session.id)}`, token, {
      method: "DELETE",
    });
    expect(res.status).toBe(204);
    const notice = await revoked;
    expect(notice.reason).toBe("revoked");
    expect(notice.sessionId).toBe(alice.session.id);
    expect(await gone).toBe("io server disconnect");

    const after = await call(srv.url, "/api/notes", alice.token);
    expect(after.status).toBe(401);
    expect((after.body as ErrorBody).error).toBe("session_revoked");
    expect((after.body as ErrorBody).reason).toBe("revoked");

    const again = await call(srv.url, `/auth/admin/sessions/${encodeURIComponent(alice.session.id)}`, token, {
      method: "DELETE",
    });
    expect(again.status).toBe(404);
    expect((again.body as ErrorBody).error).toBe("not_found");

    const [ended] = await auditTrail(srv.url, token, { session: alice.session.id });
    expect(ended?.kind).toBe("revoked");
    expect(ended?.by?.userId).toBe("admin");
  });

  it("ends all of a user's sessions, telling each device, and leaves other users alone", async () => {
    const srv = await server({ policy: { maxSessions: 5 } });
    const token = await adminToken(srv.url);
    const a1 = await login(srv.url);
    const a2 = await login(srv.url);
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    const s1 = await socketFor(srv.url, a1.token);
    const s2 = await socketFor(srv.url, a2.token);
    const bobSocket = await socketFor(srv.url, bob.token);
    let bobTold = false;
    bobSocket.on("session:revoked", () => {
      bobTold = true;
    });
    const told = Promise.all([nextRevocation(s1), nextRevocation(s2)]);

    const res = await call(srv.url, "/auth/admin/users/alice/sessions", token, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect((res.body as AdminEndResponse).ended).toBe(2);
    expect((await told).map((n) => n.reason)).toEqual(["revoked", "revoked"]);
    expect((await call(srv.url, "/auth/session", a1.token)).status).toBe(401);
    expect((await call(srv.url, "/auth/session", a2.token)).status).toBe(401);
    expect((await call(srv.url, "/auth/session", bob.token)).status).toBe(200);
    expect(bobTold).toBe(false);

    const none = await call(srv.url, "/auth/admin/users/alice/sessions", token, { method: "DELETE" });
    expect((none.body as AdminEndResponse).ended).toBe(0);
  });
});

describe("admin API: audit trail", () => {
  it("answers by user and time window, newest first, with paging", async () => {
    const srv = await server();
    const token = await adminToken(srv.url);
    const first = await login(srv.url);
    const second = await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
    await login(srv.url, { username: "bob", password: "demo" });

    await vi.waitFor(async () => expect((await auditTrail(srv.url, token, { user: "alice" })).length).toBe(3));
    const alice = await auditTrail(srv.url, token, { user: "alice" });
    expect(alice.map((e) => e.kind)).toEqual(["login", "replaced", "login"]);
    expect(alice.every((e) => e.userId === "alice")).toBe(true);
    expect(alice[0]?.sessionId).toBe(second.session.id);
    expect(alice[0]?.device?.browser).toBe("Firefox 132");
    expect(alice[1]?.sessionId).toBe(first.session.id);
    expect(alice[1]?.by?.sessionId).toBe(second.session.id);
    expect(alice[2]?.sessionId).toBe(first.session.id);

    const page1 = await call(srv.url, "/auth/admin/audit?user=alice&limit=2", token);
    const body1 = page1.body as { events: AuditEventView[]; next: string | null };
    expect(body1.events).toHaveLength(2);
    expect(body1.next).not.toBeNull();
    const page2 = await auditTrail(srv.url, token, { user: "alice", limit: "2", before: body1.next as string });
    expect(page2.map((e) => e.id)).toEqual([alice[2]?.id]);

    const at = Date.parse(second.session.createdAt);
    const since = await auditTrail(srv.url, token, { user: "alice", since: new Date(at).toISOString() });
    expect(since.every((e) => Date.parse(e.at) >= at)).toBe(true);
    const until = await auditTrail(srv.url, token, {
      user: "alice",
      until: String(Date.parse(first.session.createdAt) + 1),
    });
    expect(until.every((e) => Date.parse(e.at) <= Date.parse(first.session.createdAt))).toBe(true);
    expect(until.map((e) => e.sessionId)).toContain(first.session.id);
    const future = await auditTrail(srv.url, token, { since: String(Date.now() + 3_600_000) });
    expect(future).toEqual([]);
  });
});

describe("admin feed (namespace /admin)", () => {
  it("pushes audit events and delivery changes to admins as they happen", async () => {
    const srv = await server();
    const token = await adminToken(srv.url);
    const feed = await connectAdmin(srv.url, token);
    track(feed);
    const events: AuditEventView[] = [];
    const updates: DeliveryUpdate[] = [];
    feed.on("admin:audit", (e) => events.push(e));
    feed.on("admin:delivery", (u) => updates.push(u));

    const first = await login(srv.url);
    const socket = await socketFor(srv.url, first.token);
    const revoked = nextRevocation(socket);
    await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
    await revoked;

    // The kicked socket was on this node: the notice went out before the event was written, so
    // the event says "delivered" and the acknowledgement comes as an update.
    await vi.waitFor(() =>
      expect(updates.filter((u) => u.sessionId === first.session.id).map((u) => u.status)).toEqual(["acknowledged"]),
    );
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(["login", "replaced", "login"]));
    const replaced = events[1];
    expect(replaced?.sessionId).toBe(first.session.id);
    expect(replaced?.delivery).toBe("delivered");
    // The feed carries the same ids as the audit API.
    const trail = await auditTrail(srv.url, token, { session: first.session.id });
    expect(trail.map((e) => e.id).sort()).toEqual(
      events
        .filter((e) => e.sessionId === first.session.id)
        .map((e) => e.id)
        .sort(),
    );
  });

  it("refuses non-admins with forbidden and drops an admin whose session ends", async () => {
    const srv = await server();
    const alice = await login(srv.url);
    const refused = await connectAdmin(srv.url, alice.token).then(
      (s) => {
        s.close();
        return null;
      },
      (error: Error & { data?: { code: string } }) => error,
    );
    expect(refused?.message).toBe("forbidden");
    expect(refused?.data?.code).toBe("forbidden");

    const token = await adminToken(srv.url);
    const feed = await connectAdmin(srv.url, token);
    track(feed);
    const dropped = new Promise<string>((resolve) => feed.once("disconnect", resolve));
    await adminToken(srv.url); // a new admin sign-in replaces the first admin session
    expect(await dropped).toBe("io server disconnect");
  });
});
