import { describe, expect, it, vi } from "vitest";
import type { AdminEventsResponse } from "../../protocol/index.js";
import {
  BACKCHANNEL_LOGOUT_EVENT,
  type ReceiverOption,
  SESSION_REVOKED_EVENT,
  verifySessionEvent,
} from "../../server/index.js";
import { call, login, nextRevocation } from "../support/client.js";
import { MINUTE, manualClock } from "../support/clock.js";
import { adminToken } from "../support/ops.js";
import { startReceiver, type TestReceiver } from "../support/receiver.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

const resources = testResources();
const { server, socketFor } = resources;

/** Two receivers, one per format, and a server telling both. */
async function setUp(extra: Parameters<typeof server>[0] = {}, receivers: Partial<ReceiverOption>[] = [{}, {}]) {
  const clock = manualClock();
  const logout = await startReceiver(resources, "/backchannel-logout");
  const caep = await startReceiver(resources, "/caep");
  const srv = await server({
    clock: clock.now,
    receivers: [
      { url: logout.url, audience: "notes-service", format: "backchannel-logout", ...receivers[0] },
      { url: caep.url, audience: "https://risk.example", format: "caep", ...receivers[1] },
    ],
    delivery: { pollInterval: 20, retryBase: 1000, timeout: 2000 },
    ...extra,
  });
  return { clock, logout, caep, srv };
}

/** Waits until the receiver has accepted `n` events. */
async function accepted(receiver: TestReceiver, n: number): Promise<void> {
  await vi.waitFor(() => expect(receiver.accepted().length).toBeGreaterThanOrEqual(n), {
    timeout: 10_000,
    interval: 20,
  });
}

/** `solo_receiver_deliveries_total` of a receiver and outcome, from the server's registry. */
async function deliveries(srv: TestServer, receiver: string, outcome: string): Promise<number> {
  const metric = await srv.solo.registry.getSingleMetric("solo_receiver_deliveries_total")?.get();
  const value = metric?.values.find((v) => v.labels.receiver === receiver && v.labels.outcome === outcome);
  return value?.value ?? 0;
}

async function jwks(srv: TestServer) {
  return (await call(srv.url, "/auth/jwks.json", null)).body as Parameters<typeof verifySessionEvent>[1]["jwks"];
}

describe("session events for other services", () => {
  it("tells each receiver of a replaced session with a signed logout_token and a CAEP session-revoked SET that verify", async () => {
    const { clock, logout, caep, srv } = await setUp();
    const first = await login(srv.url);
    const socket = await socketFor(srv.url, first.token);
    const notice = nextRevocation(socket);
    const second = await login(srv.url);
    expect((await notice).reason).toBe("replaced"); // the kick is not held up by the receivers
    await accepted(logout, 1);
    await accepted(caep, 1);

    const [bcl] = logout.accepted();
    expect(bcl?.contentType).toBe("application/x-www-form-urlencoded");
    expect(bcl?.header).toMatchObject({ typ: "logout+jwt", alg: "EdDSA" });
    expect(bcl?.claims).toMatchObject({
      iss: "solo-session",
      aud: "notes-service",
      sub: "alice",
      sid: first.session.id,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    });
    expect(bcl?.claims).not.toHaveProperty("nonce");
    expect(typeof bcl?.claims.jti).toBe("string");
    expect((bcl?.claims.exp ?? 0) - (bcl?.claims.iat ?? 0)).toBe(120);
    const keys = await jwks(srv);
    const readBack = await verifySessionEvent(bcl?.token, { jwks: keys, audience: "notes-service", now: clock.now() });
    expect(readBack).toMatchObject({ format: "backchannel-logout", userId: "alice", sessionId: first.session.id });

    const [set] = caep.accepted();
    expect(set?.contentType).toBe("application/secevent+jwt");
    expect(set?.header).toMatchObject({ typ: "secevent+jwt" });
    expect(set?.claims).toMatchObject({
      aud: "https://risk.example",
      sub_id: {
        format: "complex",
        user: { format: "opaque", id: "alice" },
        session: { format: "opaque", id: first.session.id },
      },
      events: { [SESSION_REVOKED_EVENT]: { initiating_entity: "policy", event_timestamp: expect.any(Number) } },
    });
    expect(set?.claims).not.toHaveProperty("exp");
    const event = await verifySessionEvent(set?.token, {
      jwks: keys,
      audience: "https://risk.example",
      now: clock.now(),
    });
    expect(event).toMatchObject({ format: "caep", userId: "alice", sessionId: first.session.id });
    // Refused for another audience, and a session token is not an event.
    await expect(
      verifySessionEvent(set?.token, { jwks: keys, audience: "notes-service", now: clock.now() }),
    ).rejects.toMatchObject({
      code: "invalid_audience",
    });
    await expect(
      verifySessionEvent(second.token, { jwks: keys, audience: "solo-session", now: clock.now() }),
    ).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("tells of every way a session ends: logout, revoked, idle, expired; a receiver hears only the reasons it asked for", async () => {
    const { clock, logout, caep, srv } = await setUp({ idleTimeout: 10 * MINUTE, maxAge: 60 * MINUTE }, [
      {},
      { events: ["revoked", "replaced"] },
    ]);
    const out = await login(srv.url);
    await call(srv.url, "/auth/logout", out.token, { method: "POST" });
    const revoked = await login(srv.url);
    expect(await srv.solo.revokeSession(revoked.session.id)).toBe(true);
    const idle = await login(srv.url);
    clock.advance(11 * MINUTE);
    expect(await srv.solo.sweep()).toBe(1);
    const expired = await login(srv.url, { username: "bob", password: "demo" });
    // Keep bob active so that only the lifetime ends it.
    for (let i = 0; i < 6; i++) {
      clock.advance(9 * MINUTE);
      expect((await call(srv.url, "/api/notes", expired.token)).status).toBe(200);
    }
    clock.advance(7 * MINUTE); // 61 minutes old, 7 idle
    expect(await srv.solo.sweep()).toBe(1);

    await accepted(logout, 4);
    const sids = logout.accepted().map((r) => r.claims.sid);
    expect(sids).toEqual([out.session.id, revoked.session.id, idle.session.id, expired.session.id]);
    const entities = () =>
      caep
        .accepted()
        .map(
          (r) =>
            (r.claims.events as Record<string, { initiating_entity: string }>)[SESSION_REVOKED_EVENT]
              ?.initiating_entity,
        );
    await vi.waitFor(async () => expect(await deliveries(srv, caep.url, "skipped")).toBe(3), { timeout: 10_000 });
    expect(entities()).toEqual(["admin"]);
  });
});

describe("delivery that loses nothing", () => {
  it("holds events while a receiver is down for a minute, then delivers them all, in order, with one jti per event", async () => {
    const { clock, logout, caep, srv } = await setUp();
    logout.answer = 503;
    const sessions: string[] = [];
    for (const user of ["alice", "bob", "carol"]) {
      const { session, token } = await login(srv.url, { username: user, password: "demo" });
      sessions.push(session.id);
      await call(srv.url, "/auth/logout", token, { method: "POST" });
    }
    // The first event is tried and refused; the others wait behind it.
    await vi.waitFor(() => expect(logout.received.length).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 20 });
    expect(new Set(logout.received.map((r) => r.claims.sid))).toEqual(new Set([sessions[0]]));
    const admin = await adminToken(srv.url);
    const pending = await call(srv.url, "/auth/admin/events?state=pending", admin);
    expect(pending.status).toBe(200);
    const waiting = (pending.body as AdminEventsResponse).events.filter((e) => e.receiver === logout.url);
    expect(waiting.map((e) => e.sessionId)).toEqual(sessions);
    expect(waiting[0]).toMatchObject({ attempts: expect.any(Number), lastError: "http_503", state: "pending" });

    clock.advance(MINUTE);
    logout.answer = 200;
    await accepted(logout, 3);
    expect(logout.accepted().map((r) => r.claims.sid)).toEqual(sessions);
    // Every attempt at the first event carried the same jti: the receiver can deduplicate.
    const first = logout.received.filter((r) => r.claims.sid === sessions[0]);
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(new Set(first.map((r) => r.claims.jti)).size).toBe(1);
    expect(new Set(logout.accepted().map((r) => r.claims.jti)).size).toBe(3);
    await accepted(caep, 3);
    await vi.waitFor(async () => expect(await srv.solo.store.outbox?.depth()).toBe(0), { timeout: 5000 });
  });

  it("a receiver that does not answer holds up neither a login, nor a kick, nor the other receiver", async () => {
    const { logout, caep, srv } = await setUp({ delivery: { pollInterval: 20, timeout: 300 } });
    logout.answer = "hang";
    const first = await login(srv.url);
    const socket = await socketFor(srv.url, first.token);
    const notice = nextRevocation(socket);
    await login(srv.url);
    expect((await notice).reason).toBe("replaced");
    const again = await login(srv.url); // logins go on while the receiver hangs
    expect(again.replaced).toHaveLength(1);
    await accepted(caep, 2);
    // The hanging receiver's attempt times out and is retried.
    await vi.waitFor(async () => expect(await deliveries(srv, logout.url, "retry")).toBeGreaterThanOrEqual(1), {
      timeout: 10_000,
    });
    const list = (await call(srv.url, "/auth/admin/events?state=pending", await adminToken(srv.url)))
      .body as AdminEventsResponse;
    expect(list.events.find((e) => e.receiver === logout.url)?.lastError).toBe("timeout");
  });

  it("dead-letters an event its receiver refuses outright (400), lists it, and delivers it when retried", async () => {
    const { logout, srv } = await setUp();
    logout.answer = 400;
    const { token, session } = await login(srv.url);
    await call(srv.url, "/auth/logout", token, { method: "POST" });
    const admin = await adminToken(srv.url);
    let dead: AdminEventsResponse["events"] = [];
    await vi.waitFor(
      async () => {
        dead = ((await call(srv.url, "/auth/admin/events?state=dead", admin)).body as AdminEventsResponse).events;
        expect(dead).toHaveLength(1);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(dead[0]).toMatchObject({ sessionId: session.id, reason: "logout", attempts: 1, lastError: "http_400" });
    expect(logout.received).toHaveLength(1); // not retried on its own
    expect(await deliveries(srv, logout.url, "dead")).toBe(1);

    logout.answer = 200;
    expect((await call(srv.url, `/auth/admin/events/${dead[0]?.id}/retry`, admin, { method: "POST" })).status).toBe(
      204,
    );
    await accepted(logout, 1);
    expect(logout.accepted()[0]?.claims.sid).toBe(session.id);
    // Not dead any more: a second retry is 404; so are unknown and malformed ids.
    for (const id of [dead[0]?.id, "999999", "%2e%2e", "x".repeat(100)]) {
      const res = await call(srv.url, `/auth/admin/events/${id}/retry`, admin, { method: "POST" });
      expect(res.status).toBe(404);
      expect((res.body as { error: string }).error).toBe("not_found");
    }
    const bad = await call(srv.url, "/auth/admin/events?state=gone", admin);
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toBe("invalid_request");
    // Not an admin: 403.
    const alice = await login(srv.url);
    expect((await call(srv.url, "/auth/admin/events", alice.token)).status).toBe(403);
  });
});
