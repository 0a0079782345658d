import { describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { call, login, nextRevocation } from "../support/client.js";
import { MINUTE, manualClock, SECOND } from "../support/clock.js";
import { testResources } from "../support/resources.js";

// An idle timeout of a minute or less used to stop the server from starting (the touch interval
// defaulted to 60 s, which must be shorter). Now the default touch interval is a quarter of the
// idle timeout, at most 60 s (issue 12, point 14).

const { server, standalone, socketFor } = testResources();

describe("a short idle timeout", () => {
  it("SOLO_IDLE_TIMEOUT=45s: the standalone server starts, serves a login, and ends the session once idle", async () => {
    const clock = manualClock();
    const srv = await standalone({ SOLO_IDLE_TIMEOUT: "45s" }, { solo: { clock: clock.now } });
    const alice = await login(srv.url);
    expect((await call(srv.url, "/api/notes", alice.token)).status).toBe(200);
    const socket = await socketFor(srv.url, alice.token);
    const revoked = nextRevocation(socket);
    clock.advance(46 * SECOND);
    expect(await srv.solo.sweep()).toBe(1);
    expect((await revoked).reason).toBe("idle");
    const after = await call(srv.url, "/auth/session", alice.token);
    expect(after.status).toBe(401);
    expect((after.body as ErrorBody).error).toBe("session_idle");
  });

  it("writes activity every quarter of the idle timeout, so an active session lives on and an idle one ends", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, idleTimeout: 45 * SECOND });
    const alice = await login(srv.url);
    const socket = await socketFor(srv.url, alice.token);
    const seen = async () => (await srv.solo.store.get(alice.session.id))?.lastSeenAt;
    const start = clock.now();

    clock.advance(11 * SECOND); // under 11.25 s since the last write: not written
    expect((await call(srv.url, "/api/notes", alice.token)).status).toBe(200);
    expect(await seen()).toBe(start);
    clock.advance(SECOND); // 12 s: written
    expect((await call(srv.url, "/api/notes", alice.token)).status).toBe(200);
    await vi.waitFor(async () => expect(await seen()).toBe(start + 12 * SECOND));

    // 52 s after the login but 40 s after the last activity: still live, on every path.
    clock.advance(40 * SECOND);
    expect(await srv.solo.sweep()).toBe(0);
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(200);
    expect(socket.connected).toBe(true);
    await vi.waitFor(async () => expect(await seen()).toBe(start + 52 * SECOND));

    // Then 45 s with nothing: idle, and the device is told.
    const revoked = nextRevocation(socket);
    clock.advance(44 * SECOND);
    expect(await srv.solo.sweep()).toBe(0);
    clock.advance(SECOND);
    expect(await srv.solo.sweep()).toBe(1);
    expect((await revoked).reason).toBe("idle");
    expect(((await call(srv.url, "/api/notes", alice.token)).body as ErrorBody).error).toBe("session_idle");
  });

  it("a one-minute idle timeout starts too, with a 15 s touch interval", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, idleTimeout: MINUTE });
    const alice = await login(srv.url);
    const start = clock.now();
    clock.advance(15 * SECOND);
    expect((await call(srv.url, "/api/notes", alice.token)).status).toBe(200);
    await vi.waitFor(async () =>
      expect((await srv.solo.store.get(alice.session.id))?.lastSeenAt).toBe(start + 15 * SECOND),
    );
  });
});
