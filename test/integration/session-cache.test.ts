import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { MemoryStore } from "../../server/store/memory/store.js";
import type { SessionRecord } from "../../server/store/types.js";
import { call, login } from "../support/client.js";
import { manualClock } from "../support/clock.js";
import { testResources } from "../support/resources.js";

const { server } = testResources();

const code = (res: { body: unknown }) => (res.body as ErrorBody).error;

/** A memory store whose next `get` of one session reads, then waits for `release()` before answering. */
class SlowReadStore extends MemoryStore {
  #held: { id: string; entered: () => void; gate: Promise<void> } | null = null;

  /** Holds the next read of `id`; resolves `entered` once that read has happened. */
  hold(id: string): { entered: Promise<void>; release: () => void } {
    let release = () => {};
    let entered = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const enteredPromise = new Promise<void>((resolve) => {
      entered = resolve;
    });
    this.#held = { id, entered, gate };
    return { entered: enteredPromise, release };
  }

  override async get(id: string): Promise<SessionRecord | null> {
    const result = await super.get(id);
    const held = this.#held;
    if (held && held.id === id) {
      this.#held = null;
      held.entered();
      await held.gate;
    }
    return result;
  }
}

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

  it("does not remember a read that an end overtook (the notice came in while the read was in flight)", async () => {
    const clock = manualClock();
    const store = new SlowReadStore();
    const srv = await server({ clock: clock.now, sessionCacheTtl: 60_000, store });
    const first = await login(srv.url);
    const { entered, release } = store.hold(first.session.id);
    const during = call(srv.url, "/api/notes", first.token);
    await entered; // the check has read the session live; its answer is held back
    expect(await srv.solo.endSession(first.session.id)).toBe(true); // the end, and its notice, come first
    release();
    expect((await during).status).toBe(200); // it read the session before the end: fair
    // ...but that copy must not answer later checks.
    expect(code(await call(srv.url, "/api/notes", first.token))).toBe("session_revoked");
  });
});
