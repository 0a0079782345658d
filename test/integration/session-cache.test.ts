import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../server/protocol.js";
import { call, login } from "../support/client.js";
import { manualClock } from "../support/clock.js";
import { testResources } from "../support/resources.js";

const { server } = testResources();

const code = (res: { body: unknown }) => (res.body as ErrorBody).error;

describe("the check cache (sessionCacheTtl)", () => {
  it("sees every end made through this node at once", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, sessionCacheTtl: 60_000 });
    const first = await login(srv.url);
    expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200); // now cached
    await login(srv.url); // replaced through this node
    expect(code(await call(srv.url, "/api/notes", first.token))).toBe("session_replaced");
    const second = await login(srv.url, { username: "bob", password: "demo" });
    expect((await call(srv.url, "/api/notes", second.token)).status).toBe(200);
    expect(await srv.solo.endSession(second.session.id)).toBe(true);
    expect(code(await call(srv.url, "/api/notes", second.token))).toBe("session_revoked");
  });

  it("refuses an end it was not told of (another process on the store) within the TTL", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, sessionCacheTtl: 1000 });
    const first = await login(srv.url);
    expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200);
    // Ended behind this node's back, as another process sharing the SQLite file would.
    await srv.solo.store.end(first.session.id, { at: clock.now(), reason: "revoked", by: null });
    clock.advance(999);
    expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200); // the bound, not a wish
    clock.advance(1);
    expect(code(await call(srv.url, "/api/notes", first.token))).toBe("session_revoked");
  });

  it("reads the store on every request with sessionCacheTtl 0", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, sessionCacheTtl: 0 });
    const first = await login(srv.url);
    expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200);
    await srv.solo.store.end(first.session.id, { at: clock.now(), reason: "revoked", by: null });
    expect(code(await call(srv.url, "/api/notes", first.token))).toBe("session_revoked");
  });

  it("never ends a session as idle on a remembered copy that missed activity", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, sessionCacheTtl: 60 * 60_000, idleTimeout: 30 * 60_000 });
    const first = await login(srv.url);
    expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200); // cached with lastSeenAt = t0
    clock.advance(20 * 60_000);
    await srv.solo.store.touch(first.session.id, clock.now()); // activity recorded elsewhere
    clock.advance(20 * 60_000); // 40 min after the cached lastSeenAt, 20 after the real one
    expect((await call(srv.url, "/api/notes", first.token)).status).toBe(200);
    expect((await srv.solo.store.get(first.session.id))?.ended).toBeNull();
  });
});
