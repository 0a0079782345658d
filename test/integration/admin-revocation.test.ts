import { beforeAll, describe, expect, it } from "vitest";
import type { AuditEventView, ConnectErrorData } from "../../protocol/index.js";
import { login } from "../support/client.js";
import { type AdminSocket, connectAdmin } from "../support/ops.js";
import { type TestRedis, uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

// Issue 12, point 4: an ended admin session must lose its /admin feed on every node, however
// the end is learnt: the local revocation, the cross-node notice, a reconciliation pass, or
// (when the notice was lost) the node's own re-check of its admin sockets within
// sessionCacheTtl. Two nodes on a real redis-server.

const { server, track } = testResources();
const shared = testResources("all");

let redis: TestRedis;
const dataDir = shared.dir("solo-admin-rev-");
beforeAll(async () => {
  redis = await shared.redis();
});

/** Admits any user name; names starting with "admin" get the admin role. */
const authenticate = (c: Readonly<Record<string, unknown>>) =>
  typeof c.username === "string" && c.username !== ""
    ? { userId: c.username, roles: c.username.startsWith("admin") ? ["admin"] : [] }
    : null;

/** Two nodes sharing one Redis (fresh key prefix). Several admin sessions may live at once. */
async function twoNodes(sessionCacheTtl: number): Promise<[TestServer, TestServer]> {
  const keyPrefix = uniquePrefix("adm");
  const nodes: TestServer[] = [];
  for (const nodeId of ["node-a", "node-b"]) {
    nodes.push(
      await server({
        store: "redis",
        redis: { url: redis.url, keyPrefix },
        dataDir,
        nodeId,
        authenticate,
        sessionCacheTtl,
        policy: { maxSessions: 5 },
      }),
    );
  }
  return nodes as [TestServer, TestServer];
}

/** An admin feed socket that records the audit events it receives and its disconnect. */
async function feed(url: string, token: string) {
  const socket: AdminSocket = await connectAdmin(url, token);
  track(socket);
  const events: AuditEventView[] = [];
  socket.on("admin:audit", (event) => events.push(event));
  const disconnected = new Promise<string>((resolve) => socket.once("disconnect", resolve));
  return { socket, events, disconnected };
}

/** Resolves with `promise`, or fails after `ms` (a bound on an event, never a sleep). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

describe("an ended admin session loses its /admin feed", () => {
  it("reconcile() walks /admin sockets too: an end nobody was told of is caught by the pass", async () => {
    // sessionCacheTtl of a minute: the periodic re-check stays out of this test.
    const srv = await server({ sessionCacheTtl: 60_000 });
    const admin = await login(srv.url, { username: "admin", password: "admin" });
    const watched = await feed(srv.url, admin.token);
    const ended = await srv.solo.store.end(admin.session.id, { at: Date.now(), reason: "revoked", by: null });
    expect(ended?.id).toBe(admin.session.id);
    expect(watched.socket.connected).toBe(true);
    expect(await srv.solo.reconcile()).toBe(1);
    expect(await within(watched.disconnected, 2000, "disconnect")).toBe("io server disconnect");
  });

  it("the cross-node revoke drops the ended session's /admin sockets on the other node", async () => {
    const [a, b] = await twoNodes(60_000);
    const admin = await login(a.url, { username: "admin-1" });
    const watched = await feed(a.url, admin.token);
    expect(await b.solo.revokeSession(admin.session.id)).toBe(true);
    expect(await within(watched.disconnected, 2000, "disconnect")).toBe("io server disconnect");
  });

  it("a lost notice: node A re-checks its admin sockets within sessionCacheTtl, and the ended admin gets no event after", async () => {
    const ttl = 500;
    const [a, b] = await twoNodes(ttl);
    const ending = await login(a.url, { username: "admin-1" });
    const other = await login(a.url, { username: "admin-2" });
    const watched = await feed(a.url, ending.token);
    const witness = await feed(a.url, other.token);

    // Ended through node B's store directly: no notice reaches node A's adapter.
    const endedAt = Date.now();
    expect(await b.solo.store.end(ending.session.id, { at: endedAt, reason: "revoked", by: null })).not.toBeNull();
    expect(await within(watched.disconnected, 5 * ttl, "disconnect")).toBe("io server disconnect");
    expect(watched.events.filter((e) => Date.parse(e.at) >= endedAt)).toEqual([]);

    // Other users' activity goes on: the live admin sees it, the ended one does not.
    const bob = await login(b.url, { username: "bob" });
    const seen = (e: AuditEventView) => e.kind === "login" && e.sessionId === bob.session.id;
    await within(
      new Promise<void>((resolve) => {
        if (witness.events.some(seen)) resolve();
        witness.socket.on("admin:audit", (e) => seen(e) && resolve());
      }),
      5000,
      "the login event on the live admin feed",
    );
    expect(watched.events.filter(seen)).toEqual([]);
    expect(witness.socket.connected).toBe(true);

    // And the ended session cannot come back on either node.
    for (const node of [a, b]) {
      const refused = await connectAdmin(node.url, ending.token).then(
        (s) => {
          s.close();
          return null;
        },
        (error: Error & { data?: ConnectErrorData }) => error,
      );
      expect(refused?.data?.code, `${node.url} ${String(refused?.message)}`).toBe("session_revoked");
    }
  });
});
