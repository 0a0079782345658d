import pg from "pg";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { AuditEventView, ErrorBody } from "../../protocol/index.js";
import { call, handshakeError, login, nextDisconnect, nextRevocation, UA } from "../support/client.js";
import { connectAdmin } from "../support/ops.js";
import { type TestPostgres, uniqueSchema } from "../support/postgres.js";
import { type TestRedis, uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

// Several nodes on one PostgreSQL: the kick crosses nodes through the ends table and its
// notification, with the PostgreSQL Socket.IO adapter, with the Redis one (both configured), or
// with none at all. One PostgreSQL (and one redis-server) for the file; each test its own schema.
const shared = testResources("all");
let postgres: TestPostgres;
let redis: TestRedis;
const dataDir = shared.dir("solo-pg-cluster-");
beforeAll(async () => {
  [postgres, redis] = await Promise.all([shared.postgres(), shared.redis()]);
});

const resources = testResources();
const { socketFor } = resources;

type Adapter = "postgres" | "redis" | false;

/** `n` nodes on a fresh schema, with the adapter asked for. */
async function cluster(n: number, adapter: Adapter): Promise<TestServer[]> {
  const schema = uniqueSchema("c");
  return resources.pgNodes(n, {
    url: postgres.url,
    schema,
    dataDir,
    postgres: { adapter },
    ...(adapter === "redis" ? { redis: { url: redis.url, keyPrefix: uniquePrefix("pgc") } } : {}),
  });
}

describe.each([
  ["the PostgreSQL adapter", "postgres"],
  ["the Redis adapter (Redis configured too)", "redis"],
  ["no adapter (the ends table alone)", false],
] as const)("several nodes on one PostgreSQL, with %s", (_name, adapter) => {
  it("a login on node 2 revokes the socket held by node 1, and the old token is refused on every node", async () => {
    const [n1, n2, n3] = (await cluster(3, adapter)) as [TestServer, TestServer, TestServer];
    const first = await login(n1.url, { username: "alice", device: { name: "Old laptop" } });
    const socket = await socketFor(n1.url, first.token);
    const revoked = nextRevocation(socket);
    const disconnected = nextDisconnect(socket);

    const second = await login(n2.url, { username: "alice" }, { "user-agent": UA.firefoxWindows });
    expect(second.replaced.map((s) => s.id)).toEqual([first.session.id]);

    const notice = await revoked;
    expect(notice.reason).toBe("replaced");
    expect(notice.sessionId).toBe(first.session.id);
    expect(notice.by?.device.browser).toBe("Firefox 132");
    expect(await disconnected).toBe("io server disconnect");

    for (const node of [n1, n2, n3]) {
      const res = await call(node.url, "/auth/session", first.token);
      expect(res.status).toBe(401);
      expect((res.body as ErrorBody).error).toBe("session_replaced");
      expect((res.body as ErrorBody).by?.device.os).toBe("Windows 10");
      expect((await handshakeError(node.url, first.token)).message).toBe("session_replaced");
      expect((await call(node.url, "/auth/session", second.token)).status).toBe(200);
    }
  });

  it("logout and an administrator's revoke on one node reach sockets on the others", async () => {
    const [n1, n2, n3] = (await cluster(3, adapter)) as [TestServer, TestServer, TestServer];
    const a = await login(n1.url, { username: "alice" });
    const aSocket = await socketFor(n1.url, a.token);
    const aRevoked = nextRevocation(aSocket);
    expect((await call(n2.url, "/auth/logout", a.token, { method: "POST" })).status).toBe(204);
    expect((await aRevoked).reason).toBe("logout");

    const b = await login(n2.url, { username: "bob" });
    const bSocket = await socketFor(n2.url, b.token);
    const bRevoked = nextRevocation(bSocket);
    // Listening before the revoke: the disconnect can follow the notice at once.
    const bGone = nextDisconnect(bSocket, 10_000);
    expect(await n3.solo.revokeUserSessions("bob")).toBe(1);
    expect((await bRevoked).reason).toBe("revoked");
    expect(await bGone).toBe("io server disconnect");
  });

  it("reports solo_postgres_up 1 on every node", async () => {
    const nodes = await cluster(2, adapter);
    for (const node of nodes) {
      const metrics = await node.solo.registry.metrics();
      expect(metrics).toMatch(/^solo_postgres_up 1$/m);
      expect(metrics).not.toMatch(/^solo_redis_up/m);
    }
  });
});

describe.each([
  ["the PostgreSQL adapter", "postgres"],
  ["the Redis adapter (Redis configured too)", "redis"],
] as const)("what the adapter carries, with %s", (_name, adapter) => {
  it("keeps one socket per session across nodes: a newer socket on node 2 replaces the one on node 1", async () => {
    const [n1, n2] = (await cluster(2, adapter)) as [TestServer, TestServer];
    const a = await login(n1.url, { username: "alice" });
    // The client sees "connect" before node 1 has re-checked the session in the store and told
    // every node to drop the session's other sockets: until then, that sweep of the older
    // socket's could reach a newer one. The newer socket connects once node 1 has swept.
    const swept = vi.spyOn(n1.io.of("/session").adapter, "disconnectSockets");
    const older = await socketFor(n1.url, a.token);
    await vi.waitFor(() => expect(swept).toHaveBeenCalled());
    let told = false;
    older.on("session:revoked", () => {
      told = true;
    });
    const gone = nextDisconnect(older);
    const newer = await socketFor(n2.url, a.token);
    expect(await gone).toBe("io server disconnect");
    expect(told).toBe(false);
    expect(newer.connected).toBe(true);
  });

  it("the /admin feed on node 1 shows a login made on node 2", async () => {
    const schema = uniqueSchema("adm");
    const authenticate = (c: Readonly<Record<string, unknown>>) =>
      typeof c.username === "string" && c.username !== ""
        ? { userId: c.username, roles: c.username === "admin" ? ["admin"] : [] }
        : null;
    const keyPrefix = uniquePrefix("adm");
    const nodes: TestServer[] = [];
    for (const nodeId of ["node-a", "node-b"]) {
      nodes.push(
        await resources.server({
          store: "postgres",
          postgres: { url: postgres.url, schema, adapter },
          ...(adapter === "redis" ? { redis: { url: redis.url, keyPrefix } } : {}),
          dataDir,
          nodeId,
          authenticate,
        }),
      );
    }
    const [a, b] = nodes as [TestServer, TestServer];
    const admin = await login(a.url, { username: "admin" });
    const feed = resources.track(await connectAdmin(a.url, admin.token));
    const seen = new Promise<AuditEventView>((resolve) => {
      feed.on("admin:audit", (event) => {
        if (event.kind === "login" && event.userId === "bob") resolve(event);
      });
    });
    const bob = await login(b.url, { username: "bob" });
    const event = await seen;
    expect(event.sessionId).toBe(bob.session.id);
    expect(event.node).toBe("node-b");
  });
});

describe("the nodes' PostgreSQL connections", () => {
  it("each node names its listening and adapter connections after itself (pg_stat_activity)", async () => {
    const schema = uniqueSchema("names");
    await resources.pgNodes(2, { url: postgres.url, schema, dataDir, nodePrefix: schema });
    const db = resources.defer(new pg.Client({ connectionString: postgres.url }), (c) => c.end());
    await db.connect();
    const apps = async () =>
      (
        await db.query<{ application_name: string }>(
          "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE $1",
          [`%${schema}%`],
        )
      ).rows.map((r) => r.application_name);
    const expected = [1, 2].flatMap((i) => [
      `solo-session ${schema}-${i}`,
      `solo-session listen ${schema}-${i}`,
      `solo-session io ${schema}-${i}`,
    ]);
    // The adapter's listening connection comes up as the adapter starts, a moment after attach().
    await vi.waitFor(async () => expect(new Set(await apps())).toEqual(new Set(expected)), { timeout: 5_000 });
  });
});
