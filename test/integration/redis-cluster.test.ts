import { rmSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../../server/protocol.js";
import {
  type ClientSocket,
  call,
  connect,
  handshakeError,
  login,
  nextDisconnect,
  nextRevocation,
  UA,
} from "../support/client.js";
import { anyUser, startRedis, type TestRedis, uniquePrefix } from "../support/redis.js";
import { startTestServer, type TestServer, tempDir } from "../support/server.js";

let redis: TestRedis;
const dataDir = tempDir("solo-cluster-");
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const servers: TestServer[] = [];
const sockets: ClientSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const s of servers.splice(0)) await s.close();
});

/** Three nodes sharing one Redis (a fresh key prefix) and one key directory. */
async function cluster(n = 3): Promise<TestServer[]> {
  const keyPrefix = uniquePrefix("c");
  const nodes: TestServer[] = [];
  for (let i = 1; i <= n; i++) {
    const node = await startTestServer({
      store: "redis",
      redis: { url: redis.url, keyPrefix },
      dataDir,
      nodeId: `node-${i}`,
      authenticate: anyUser,
    });
    servers.push(node);
    nodes.push(node);
  }
  return nodes;
}

async function socketFor(url: string, token: string): Promise<ClientSocket> {
  const s = await connect(url, token);
  sockets.push(s);
  return s;
}

describe("several nodes on one Redis", () => {
  it("a login on node 2 revokes the socket held by node 1, and the old token is refused on every node", async () => {
    const [n1, n2, n3] = (await cluster()) as [TestServer, TestServer, TestServer];
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
    const [n1, n2, n3] = (await cluster()) as [TestServer, TestServer, TestServer];
    const a = await login(n1.url, { username: "alice" });
    const aSocket = await socketFor(n1.url, a.token);
    const aRevoked = nextRevocation(aSocket);
    expect((await call(n2.url, "/auth/logout", a.token, { method: "POST" })).status).toBe(204);
    expect((await aRevoked).reason).toBe("logout");

    const b = await login(n2.url, { username: "bob" });
    const bSocket = await socketFor(n2.url, b.token);
    const bRevoked = nextRevocation(bSocket);
    expect(await n3.solo.endUserSessions("bob")).toBe(1);
    expect((await bRevoked).reason).toBe("revoked");
    expect(await nextDisconnect(bSocket)).toBe("io server disconnect");
  });

  it("keeps one socket per session across nodes: a newer socket on node 2 replaces the one on node 1", async () => {
    const [n1, n2] = (await cluster(2)) as [TestServer, TestServer];
    const a = await login(n1.url, { username: "alice" });
    const older = await socketFor(n1.url, a.token);
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

  it("runs the sharded adapter on Redis 7: each node subscribes to the namespace's shard channel", async () => {
    const nodes = await cluster();
    const probe = new Redis(redis.url);
    try {
      const channels = (await probe.call("PUBSUB", "SHARDCHANNELS", "*")) as string[];
      const session = channels.filter((c) => c.includes("#/session#") && !/#\/session#.+#$/.test(c));
      expect(session.length).toBeGreaterThanOrEqual(1);
      const counts = (await probe.call("PUBSUB", "SHARDNUMSUB", ...session)) as (string | number)[];
      // One namespace channel, subscribed by every node of this test.
      const perChannel = new Map<string, number>();
      for (let i = 0; i < counts.length; i += 2) perChannel.set(String(counts[i]), Number(counts[i + 1]));
      expect([...perChannel.values()].some((n) => n >= nodes.length)).toBe(true);
    } finally {
      probe.disconnect();
    }
  });
});
