import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { redisCli } from "../../scripts/lib/redis-topology.js";
import { call, handshakeError, login, nextDisconnect, nextRevocation, UA } from "../support/client.js";
import { uniquePrefix } from "../support/redis.js";
import { DEPLOYMENTS, type RedisDeployment, useDeployment } from "../support/redis-deployments.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

// Every test below runs on one Redis server, on a Redis Cluster (3 primaries, a replica each)
// and on Sentinel (a primary, a replica, 3 sentinels): each deployment is started once.
const dataDir = testResources("all").dir("solo-cluster-");
const { nodes, socketFor } = testResources();

type AdapterChoice = true | "classic";

describe.each(DEPLOYMENTS)("on %s Redis", (kind) => {
  const deployment = useDeployment(kind);

  /** Nodes sharing the deployment (a fresh key prefix) and one key directory. */
  let lastPrefix = "";
  function cluster(n = 3, adapter: AdapterChoice = true): Promise<TestServer[]> {
    const keyPrefix = uniquePrefix("c");
    lastPrefix = keyPrefix;
    return nodes(n, { redis: { ...deployment().connection, keyPrefix, adapter }, dataDir });
  }

  describe.each([
    ["the sharded adapter (chosen on Redis 7)", true],
    ["the classic adapter", "classic"],
  ] as const)("several nodes on the deployment, with %s", (_name, adapter) => {
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
      const bGone = nextDisconnect(bSocket);
      expect(await n3.solo.revokeUserSessions("bob")).toBe(1);
      expect((await bRevoked).reason).toBe("revoked");
      expect(await bGone).toBe("io server disconnect");
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

  /** How the nodes subscribe: shard channels held on the namespace channel's shard, patterns on every server. */
  async function subscriptions(d: RedisDeployment): Promise<{ sharded: number; patterns: number }> {
    // The sharded adapter's namespace channel, as @socket.io/redis-adapter names it.
    const channel = `${lastPrefix}:io#/session#`;
    const owner = await d.primaryFor(channel);
    const sharded = Number((await redisCli(owner.port, "PUBSUB", "SHARDNUMSUB", channel)).trim().split("\n")[1]);
    // Classic pub/sub on a cluster goes over the cluster bus: a subscriber may hold its patterns
    // on any node, a replica included.
    const servers = d.cluster ? d.cluster.nodes.filter((n) => n.running).map((n) => n.port) : await d.primaries();
    let patterns = 0;
    for (const port of servers) patterns += Number((await redisCli(port, "PUBSUB", "NUMPAT")).trim());
    return { sharded, patterns };
  }

  describe("adapter choice", () => {
    it("runs the sharded adapter on Redis 7: every node holds the namespace's shard channel on its shard, and no pattern", async () => {
      const started = await cluster();
      expect(await subscriptions(deployment())).toEqual({ sharded: started.length, patterns: 0 });
    });

    it('runs the classic adapter when asked (redis.adapter: "classic"): pattern pub/sub, no shard channel', async () => {
      const started = await cluster(3, "classic");
      const { sharded, patterns } = await subscriptions(deployment());
      expect(sharded).toBe(0);
      expect(patterns).toBeGreaterThanOrEqual(started.length);
    });
  });
});
