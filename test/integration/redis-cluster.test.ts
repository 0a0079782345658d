import { beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { call, handshakeError, login, nextDisconnect, nextRevocation, UA } from "../support/client.js";
import { type TestRedis, uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

const shared = testResources("all");
let redis: TestRedis;
const dataDir = shared.dir("solo-cluster-");
beforeAll(async () => {
  redis = await shared.redis();
});

const { nodes, socketFor, redisClient } = testResources();

type AdapterChoice = true | "classic";

/** Nodes sharing one Redis (a fresh key prefix) and one key directory. */
let lastPrefix = "";
function cluster(n = 3, adapter: AdapterChoice = true): Promise<TestServer[]> {
  const keyPrefix = uniquePrefix("c");
  lastPrefix = keyPrefix;
  return nodes(n, { redis: { url: redis.url, keyPrefix, adapter }, dataDir });
}

describe.each([
  ["the sharded adapter (chosen on Redis 7)", true],
  ["the classic adapter", "classic"],
] as const)("several nodes on one Redis, with %s", (_name, adapter) => {
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
    expect(await n3.solo.revokeUserSessions("bob")).toBe(1);
    expect((await bRevoked).reason).toBe("revoked");
    expect(await nextDisconnect(bSocket)).toBe("io server disconnect");
  });

  it("keeps one socket per session across nodes: a newer socket on node 2 replaces the one on node 1", async () => {
    const [n1, n2] = (await cluster(2, adapter)) as [TestServer, TestServer];
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
});

/** The subscriber connections of solo-session nodes, from CLIENT LIST: how many patterns and shard channels each holds. */
async function subscribers(): Promise<{ psub: number; ssub: number }[]> {
  const list = (await (await redisClient(redis)).call("CLIENT", "LIST")) as string;
  return list
    .split("\n")
    .filter((line) => line.includes(` name=${lastPrefix}:io:sub `))
    .map((line) => ({
      psub: Number(/ psub=(\d+)/.exec(line)?.[1] ?? -1),
      ssub: Number(/ ssub=(\d+)/.exec(line)?.[1] ?? -1),
    }));
}

describe("adapter choice", () => {
  it("runs the sharded adapter on Redis 7: every node's subscriber holds shard channels and no pattern", async () => {
    const nodes = await cluster();
    const subs = await subscribers();
    expect(subs).toHaveLength(nodes.length);
    for (const sub of subs) {
      expect(sub.ssub).toBeGreaterThanOrEqual(2);
      expect(sub.psub).toBe(0);
    }
  });

  it('runs the classic adapter when asked (redis.adapter: "classic"): pattern pub/sub, no shard channel', async () => {
    const nodes = await cluster(3, "classic");
    const subs = await subscribers();
    expect(subs).toHaveLength(nodes.length);
    for (const sub of subs) {
      expect(sub.psub).toBeGreaterThanOrEqual(1);
      expect(sub.ssub).toBe(0);
    }
  });
});
