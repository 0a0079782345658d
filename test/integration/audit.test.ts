import { describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { call, handshakeError, login, nextRevocation, UA } from "../support/client.js";
import { MINUTE, manualClock } from "../support/clock.js";
import { adminToken, auditTrail, endingEvent, heldRevocation } from "../support/ops.js";
import { testResources } from "../support/resources.js";

const { server, socketFor } = testResources();

describe("delivery status of a kick", () => {
  it("is delivered when the notice reaches the live socket, then acknowledged when the device acks", async () => {
    const srv = await server();
    const admin = await adminToken(srv.url);
    const first = await login(srv.url, { username: "alice", password: "demo", device: { name: "Old laptop" } });
    const socket = await socketFor(srv.url, first.token);
    const held = heldRevocation(socket);

    const second = await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
    const { notice, ack } = await held;
    expect(notice.reason).toBe("replaced");

    await vi.waitFor(async () =>
      expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("delivered"),
    );
    ack();
    await vi.waitFor(async () =>
      expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("acknowledged"),
    );

    const event = await endingEvent(srv.url, admin, first.session.id);
    expect(event?.kind).toBe("replaced");
    expect(event?.userId).toBe("alice");
    expect(event?.device?.name).toBe("Old laptop");
    expect(event?.by?.sessionId).toBe(second.session.id);
    expect(event?.by?.device?.browser).toBe("Firefox 132");
    expect(typeof event?.node).toBe("string");
    expect(event?.at).toBe(second.session.createdAt);
  });

  it("is pending while the device is offline, and delivered once it comes back", async () => {
    const srv = await server();
    const admin = await adminToken(srv.url);
    const first = await login(srv.url);
    await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });

    await vi.waitFor(async () => expect((await endingEvent(srv.url, admin, first.session.id))?.kind).toBe("replaced"));
    expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("pending");

    // The device comes back: its next request is refused with the reason, which shows it the notice.
    const back = await call(srv.url, "/api/notes", first.token);
    expect(back.status).toBe(401);
    await vi.waitFor(async () =>
      expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("delivered"),
    );
    // Coming back again changes nothing.
    expect((await handshakeError(srv.url, first.token)).message).toBe("session_replaced");
    expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("delivered");
  });

  it("is delivered when the device itself finds its session idle on its next request", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, idleTimeout: 10 * MINUTE });
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    clock.advance(10 * MINUTE);
    const res = await call(srv.url, "/auth/session", bob.token);
    expect(res.status).toBe(401);
    expect((res.body as ErrorBody).error).toBe("session_idle");
    const admin = await adminToken(srv.url);
    await vi.waitFor(async () => expect((await endingEvent(srv.url, admin, bob.session.id))?.kind).toBe("idle"));
    expect((await endingEvent(srv.url, admin, bob.session.id))?.delivery).toBe("delivered");
  });

  it("never moves backwards: a device that acked and then comes back stays acknowledged", async () => {
    const srv = await server();
    const admin = await adminToken(srv.url);
    const first = await login(srv.url);
    const socket = await socketFor(srv.url, first.token);
    const revoked = nextRevocation(socket);
    await login(srv.url);
    await revoked;
    await vi.waitFor(async () =>
      expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("acknowledged"),
    );
    expect((await call(srv.url, "/auth/session", first.token)).status).toBe(401);
    expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("acknowledged");
  });
});

describe("audit trail events", () => {
  it("records login, login_refused (with the policy), logout, idle and expired with user, session, device and node", async () => {
    const clock = manualClock();
    const srv = await server({
      policy: "oldest-wins",
      clock: clock.now,
      idleTimeout: 10 * MINUTE,
      maxAge: 60 * MINUTE,
      nodeId: "node-a",
    });
    const admin = await adminToken(srv.url);

    const alice = await login(srv.url, { username: "alice", password: "demo", device: { name: "Desk" } });
    const aliceSocket = await socketFor(srv.url, alice.token);
    const told = nextRevocation(aliceSocket);
    const refused = await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows })
      .then(() => null)
      .catch((e: { status: number }) => e.status);
    expect(refused).toBe(409);
    expect((await call(srv.url, "/auth/logout", alice.token, { method: "POST" })).status).toBe(204);
    expect((await told).reason).toBe("logout");
    await vi.waitFor(async () =>
      expect((await endingEvent(srv.url, admin, alice.session.id))?.delivery).toBe("acknowledged"),
    );

    const bob = await login(srv.url, { username: "bob", password: "demo" });
    clock.advance(10 * MINUTE);
    expect(await srv.solo.sweep()).toBeGreaterThanOrEqual(1); // bob (and the admin) went idle

    const carol = await login(srv.url, { username: "carol", password: "demo" });
    for (let i = 0; i < 6; i++) {
      clock.advance(9 * MINUTE); // active all along...
      expect((await call(srv.url, "/auth/session", carol.token)).status).toBe(200);
    }
    clock.advance(7 * MINUTE); // ...until the absolute lifetime is over
    expect(await srv.solo.sweep()).toBe(1);

    const fresh = await adminToken(srv.url);
    const trail = await auditTrail(srv.url, fresh, { limit: "100" });
    const kinds = (user: string) =>
      trail
        .filter((e) => e.userId === user)
        .map((e) => e.kind)
        .reverse();
    expect(kinds("alice")).toEqual(["login", "login_refused", "logout"]);
    expect(kinds("bob")).toEqual(["login", "idle"]);
    expect(kinds("carol")).toEqual(["login", "expired"]);

    const login1 = trail.find((e) => e.kind === "login" && e.userId === "alice");
    expect(login1?.sessionId).toBe(alice.session.id);
    expect(login1?.device).toEqual({ name: "Desk", browser: "Chrome 131", os: "Mac OS 10.15.7", ip: "127.0.0.1" });
    expect(login1?.node).toBe("node-a");
    expect(login1?.at).toBe(alice.session.createdAt);
    expect(login1?.delivery).toBeNull();

    const refusal = trail.find((e) => e.kind === "login_refused");
    expect(refusal?.sessionId).toBeNull();
    expect(refusal?.device?.browser).toBe("Firefox 132");
    expect(refusal?.detail).toBe("oldest-wins");
    expect(refusal?.by?.sessionId).toBe(alice.session.id);

    const logout = trail.find((e) => e.kind === "logout");
    expect(logout?.sessionId).toBe(alice.session.id);
    expect(logout?.by?.userId).toBe("alice");
    expect(logout?.delivery).toBe("acknowledged"); // its socket got the notice and the client acked it

    const idle = trail.find((e) => e.kind === "idle" && e.userId === "bob");
    expect(idle?.sessionId).toBe(bob.session.id);
    expect(idle?.delivery).toBe("pending"); // bob had no socket
    expect(trail.find((e) => e.kind === "expired")?.sessionId).toBe(carol.session.id);
    expect(admin).not.toBe(fresh);
  });
});
