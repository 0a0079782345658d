import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import type { RedisConnectionOptions } from "../../server/store/redis/connection.js";
import { call, handshakeError, login, nextDisconnect, nextRevocation } from "../support/client.js";
import { redisUp } from "../support/ops.js";
import { connectionIds, holdConnectionDown, type TestRedis, uniquePrefix } from "../support/redis.js";
import { DEPLOYMENTS, type RedisDeployment, useDeployment } from "../support/redis-deployments.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

/** Generous bound on "Redis is back" → "zombie told" (1 s reconnect backoff + one pass, on a busy CI box). */
const RECONNECT_BOUND = 5_000;
/** Bound on a node serving again once Redis is back (reconnect backoff, AOF load) on a busy machine. */
const BACK_BOUND = 15_000;
const resources = testResources();
const { redis: startRedis, redisClient, nodeProcess } = resources;
const dataDir = testResources("all").dir("solo-faults-");

/** `n` nodes on one redis-server or on a deployment (`{ url }`, `{ cluster }`, `{ sentinels, name }`). */
function nodesOn(redis: TestRedis | RedisConnectionOptions, keyPrefix: string, n: number, reconcileInterval: number) {
  const connection = "port" in redis ? { url: redis.url } : redis;
  return resources.nodes(n, { redis: { ...connection, keyPrefix, reconcileInterval }, dataDir });
}

/** A plain connection of the test's own to one server of a deployment, by port, closed after the test. */
async function adminOf(port: number): Promise<Redis> {
  const admin = await redisClient({ url: `redis://127.0.0.1:${port}` } as TestRedis);
  return admin;
}

/** A `/session` socket that acknowledges every notice, closed after the test. */
async function socketFor(url: string, token: string) {
  const s = await resources.socketFor(url, token);
  s.on("session:revoked", (_notice, ack) => ack());
  return s;
}

/**
 * Ends a session straight in Redis with raw commands, bypassing every node and the store's
 * scripts: no notice is published and nothing is appended to the ends stream. That is what an
 * end no node heard of leaves behind (say, the stream was trimmed past a node that fell
 * behind): a zombie socket, for the reconcile pass to find.
 */
async function endBehindTheNodesBack(
  redis: TestRedis | RedisDeployment,
  keyPrefix: string,
  userId: string,
  sessionId: string,
): Promise<void> {
  const admin = "admin" in redis ? redis.admin() : await redisClient(redis);
  const ended = JSON.stringify({ at: Date.now(), reason: "revoked", by: null });
  expect(await admin.hset(`${keyPrefix}:{u:${userId}}:s:${sessionId}`, "ended", ended)).toBe(1);
  await admin.zrem(`${keyPrefix}:{u:${userId}}:live`, sessionId);
}

/** A pino logger whose lines (parsed) land in `lines`. */
function capturingLogger(lines: { level: number; msg: string }[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "debug" }, stream);
}

async function status(url: string, token: string): Promise<string> {
  const res = await call(url, "/auth/session", token);
  return res.status === 200 ? "ok" : (res.body as ErrorBody).error;
}

describe("one Redis server: outage and restart (AOF on)", () => {
  it("refuses logins with 503 store_unavailable while down, keeps sockets, and resumes by itself", async () => {
    const redis = await startRedis({ aof: true });
    const keyPrefix = uniquePrefix("f");
    // A long timer: only the reconcile that follows the reconnect can catch the zombie in time.
    // No check cache: every request during the outage goes to the store (a copy read less than
    // sessionCacheTtl before the crash would answer it otherwise, as documented).
    const [n1, n2, n3] = (await resources.nodes(3, {
      redis: { url: redis.url, keyPrefix, reconcileInterval: 600_000 },
      dataDir,
      sessionCacheTtl: 0,
    })) as [TestServer, TestServer, TestServer];

    const alice = await login(n1.url, { username: "alice" });
    const aliceSocket = await socketFor(n2.url, alice.token);
    const bobOld = await login(n1.url, { username: "bob" });
    const bob = await login(n2.url, { username: "bob" });
    const carol = await login(n3.url, { username: "carol" });
    const carolSocket = await socketFor(n3.url, carol.token);
    await endBehindTheNodesBack(redis, keyPrefix, "carol", carol.session.id);
    const zombieTold = nextRevocation(carolSocket, 20_000).then((notice) => ({ notice, at: Date.now() }));

    await redis.stop({ crash: true });

    const refused = await call(n1.url, "/auth/login", null, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "dave" }),
    });
    expect(refused.status).toBe(503);
    expect((refused.body as ErrorBody).error).toBe("store_unavailable");
    const check = await call(n2.url, "/auth/session", alice.token);
    expect(check.status).toBe(503);
    expect((check.body as ErrorBody).error).toBe("store_unavailable");
    const api = await call(n3.url, "/api/notes", alice.token);
    expect(api.status).toBe(503);
    expect((api.body as ErrorBody).error).toBe("store_unavailable");
    expect((await handshakeError(n3.url, alice.token)).message).toBe("store_unavailable");
    expect(aliceSocket.connected).toBe(true);
    expect(carolSocket.connected).toBe(true);

    await redis.start();
    const restartedAt = Date.now();
    await vi.waitFor(async () => expect(await status(n1.url, alice.token), "node 1 serves again").toBe("ok"), {
      timeout: BACK_BOUND,
    });

    // Live sessions survived the crash, replaced ones stay refused, on every node.
    for (const node of [n1, n2, n3]) {
      await vi.waitFor(async () => expect(await status(node.url, alice.token), `${node.url} serves again`).toBe("ok"), {
        timeout: BACK_BOUND,
      });
      expect(await status(node.url, bob.token)).toBe("ok");
      expect(await status(node.url, bobOld.token)).toBe("session_replaced");
      expect(await status(node.url, carol.token)).toBe("session_revoked");
    }
    // The zombie is revoked by the reconcile that follows the reconnect, within the stated bound:
    // the reconnect delay (at most 1 s) plus one pass, well inside RECONNECT_BOUND.
    const zombie = await zombieTold;
    expect(zombie.notice.reason).toBe("revoked");
    expect(zombie.at - restartedAt).toBeLessThan(RECONNECT_BOUND);
    expect(aliceSocket.connected).toBe(true);

    // Pub/sub is back too: a new login on node 1 kicks the socket held by node 2.
    const aliceTold = nextRevocation(aliceSocket);
    await login(n1.url, { username: "alice" });
    expect((await aliceTold).reason).toBe("replaced");
  }, 60_000);
});

/** Bound on "login answered (or its node died)" → "old socket on another node told", far below reconcileInterval. */
const LOST_PUBLISH_BOUND = 3_000;

// The rest runs on one Redis server, on a Redis Cluster (3 primaries, a replica each) and on
// Sentinel (a primary, a replica, 3 sentinels): each deployment is started once.
describe.each(DEPLOYMENTS)("on %s Redis", (kind) => {
  const deployment = useDeployment(kind);

  it("the periodic reconcile bounds a lost notice to reconcileInterval, without any outage", async () => {
    const keyPrefix = uniquePrefix("p");
    const [n1] = (await nodesOn(deployment().connection, keyPrefix, 1, 300)) as [TestServer];
    const carol = await login(n1.url, { username: "carol" });
    const socket = await socketFor(n1.url, carol.token);
    const told = nextRevocation(socket, 5_000);
    // Listening before the end: the disconnect can follow the notice at once.
    const gone = nextDisconnect(socket, 10_000);
    await endBehindTheNodesBack(deployment(), keyPrefix, "carol", carol.session.id);
    expect((await told).reason).toBe("revoked");
    expect(await gone).toBe("io server disconnect");
  });

  it("a node closes during an outage without waiting for Redis to come back, and leaves no rejection unhandled", async () => {
    const d = deployment();
    const keyPrefix = uniquePrefix("s");
    const [node] = (await nodesOn(d.connection, keyPrefix, 1, 30_000)) as [TestServer];
    const alice = await login(node.url, { username: "alice" });
    await socketFor(node.url, alice.token);
    // The server holding alice's keys goes: the one server, her shard's primary, or the primary.
    const { process: primary } = await d.primaryFor(`${keyPrefix}:{u:alice}:v`);
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    // Commands the node leaves pending fail at once or at their timeout (2 s; 7 s for the ends
    // reader); an unhandled rejection among them would end a real process. The timeouts armed
    // from here on run on a fake clock, which runs them all out at once after the close.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
    try {
      if (d.single) await d.single.stop({ crash: true });
      else await primary?.kill();
      await node.close();
      await vi.runAllTimersAsync();
    } finally {
      vi.useRealTimers();
      process.off("unhandledRejection", record);
    }
    expect(unhandled).toEqual([]);
    // Back for the next tests (a failed-over primary comes back as a replica).
    if (d.single) await d.single.start();
    else await primary?.restart();
    await d.healthy();
  }, 60_000);

  it("a node killed with SIGKILL: its clients reconnect to another node and keep their sessions; the others keep kicking", async () => {
    const d = deployment();
    const keyPrefix = uniquePrefix("k");
    const [n1, n2] = (await nodesOn(d.connection, keyPrefix, 2, 30_000)) as [TestServer, TestServer];
    const doomed = await nodeProcess({ connection: d.connection, keyPrefix, dataDir, nodeId: "node-3" });

    const dave = await login(doomed.url, { username: "dave" });
    const erin = await login(n1.url, { username: "erin" });
    const daveSocket = await socketFor(doomed.url, dave.token);
    const erinSocket = await socketFor(doomed.url, erin.token);
    const daveGone = nextDisconnect(daveSocket);
    const erinGone = nextDisconnect(erinSocket);

    await doomed.kill();
    expect(await daveGone).toBe("transport close");
    expect(await erinGone).toBe("transport close");

    const daveAgain = await socketFor(n1.url, dave.token);
    const erinAgain = await socketFor(n2.url, erin.token);
    expect(daveAgain.connected && erinAgain.connected).toBe(true);
    for (const node of [n1, n2]) {
      expect(await status(node.url, dave.token)).toBe("ok");
      expect(await status(node.url, erin.token)).toBe("ok");
    }
    const daveTold = nextRevocation(daveAgain);
    await login(n2.url, { username: "dave" });
    expect((await daveTold).reason).toBe("replaced");
    expect(erinAgain.connected).toBe(true);
  }, 60_000);

  describe("a revocation whose publish never happens still reaches the other node (the ends stream)", () => {
    it("the claiming node's publisher connection is down at the login: the other node's socket is told in seconds", async () => {
      const d = deployment();
      const keyPrefix = uniquePrefix("lp");
      // Node 1 publishes the kick on the namespace's channel (sharded: on that channel's shard;
      // classic, on a cluster: any node), over its publisher connection to that server.
      const { port } = await d.primaryFor(`${keyPrefix}:io#/session#`);
      const admin = await adminOf(port);
      // A reconcile timer far beyond the bound: only the ends stream can tell the socket in time.
      const [n2] = (await nodesOn(d.connection, keyPrefix, 1, 600_000)) as [TestServer];
      const before = await connectionIds(admin, `${keyPrefix}:io:pub`);
      const lines: { level: number; msg: string }[] = [];
      const [n1] = (await resources.nodes(1, {
        redis: { ...d.connection, keyPrefix, reconcileInterval: 600_000 },
        dataDir,
        logger: capturingLogger(lines),
      })) as [TestServer];
      // The publisher connects to the channel's server when it first publishes: the login below
      // does, so wait for the connection.
      const alice = await login(n2.url, { username: "alice" });
      const socket = await socketFor(n2.url, alice.token);
      let n1Publisher: string | undefined;
      await vi.waitFor(async () => {
        [n1Publisher] = (await connectionIds(admin, `${keyPrefix}:io:pub`)).filter((id) => !before.includes(id));
        expect(n1Publisher, "node 1's publisher on the channel's server").toBeDefined();
      });
      const told = nextRevocation(socket, 10_000).then((notice) => ({ notice, at: Date.now() }));
      const gone = nextDisconnect(socket, 10_000);

      // Drop node 1's publisher and keep it from reconnecting: its publish of the kick is lost.
      const release = await holdConnectionDown(admin, n1Publisher as string);
      // Node 1 has noticed (its solo_redis_up reads 0) before the login.
      await vi.waitFor(async () => expect(await redisUp(n1)).toBe(0), { timeout: 5_000 });
      const second = await login(n1.url, { username: "alice" });
      const answeredAt = Date.now();
      expect(second.replaced.map((s) => s.id)).toEqual([alice.session.id]);

      const { notice, at } = await told;
      expect(notice.reason).toBe("replaced");
      expect(notice.sessionId).toBe(alice.session.id);
      expect(at - answeredAt).toBeLessThan(LOST_PUBLISH_BOUND);
      expect(await gone).toBe("io server disconnect");
      // The publish did fail, and said so at warn level (40), not debug.
      await vi.waitFor(() =>
        expect(lines.some((l) => l.level === 40 && l.msg.startsWith("publish failed"))).toBe(true),
      );

      await release();
      await vi.waitFor(async () => expect(await redisUp(n1)).toBe(1), { timeout: 10_000 });
      expect(await status(n2.url, alice.token)).toBe("session_replaced");
      expect(await status(n2.url, second.token)).toBe("ok");
    }, 30_000);

    it("the claiming node dies (SIGKILL) between its commit and its publish: the other node's socket is told in seconds", async () => {
      const d = deployment();
      const keyPrefix = uniquePrefix("dk");
      const [n2] = (await nodesOn(d.connection, keyPrefix, 1, 600_000)) as [TestServer];
      const doomed = await nodeProcess({
        connection: d.connection,
        keyPrefix,
        dataDir,
        nodeId: "node-doomed",
        dieAfterCommit: true,
      });

      const alice = await login(n2.url, { username: "alice" });
      const socket = await socketFor(n2.url, alice.token);
      const told = nextRevocation(socket, 10_000).then((notice) => ({ notice, at: Date.now() }));

      // The doomed node commits the claim that replaces alice's session, then dies before it
      // returns: no push, no publish, no answer.
      const sentAt = Date.now();
      const answer = await call(doomed.url, "/auth/login", null, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice" }),
      }).catch((error: unknown) => error);
      expect(answer).toBeInstanceOf(Error);
      await doomed.kill();

      const { notice, at } = await told;
      expect(notice.reason).toBe("replaced");
      expect(notice.sessionId).toBe(alice.session.id);
      expect(at - sentAt).toBeLessThan(LOST_PUBLISH_BOUND);
      expect(await status(n2.url, alice.token)).toBe("session_replaced");
    }, 30_000);
  });
});

describe("one Redis server: durability with appendonly yes + appendfsync always", () => {
  it("a claim acknowledged just before redis-server is SIGKILLed survives the restart: the replaced session stays replaced", async () => {
    const redis = await startRedis({ aof: true, appendfsync: "always" });
    const admin = await redisClient(redis);
    expect(await admin.call("CONFIG", "GET", "appendonly")).toEqual(["appendonly", "yes"]);
    expect(await admin.call("CONFIG", "GET", "appendfsync")).toEqual(["appendfsync", "always"]);
    const keyPrefix = uniquePrefix("aof");
    const [node] = (await nodesOn(redis, keyPrefix, 1, 600_000)) as [TestServer];

    const a = await login(node.url, { username: "alice" });
    const b = await login(node.url, { username: "alice" });
    expect(b.replaced.map((s) => s.id)).toEqual([a.session.id]);
    // At once: no time for any background fsync; only what was on disk before each reply survives.
    await redis.stop({ crash: true });
    await redis.start();

    // A node that starts now knows only what Redis kept (no cache, no memory of the logins).
    const [fresh] = (await nodesOn(redis, keyPrefix, 1, 600_000)) as [TestServer];
    for (const n of [fresh, node]) {
      await vi.waitFor(async () => expect(await status(n.url, b.token), `${n.url} serves B again`).toBe("ok"), {
        timeout: BACK_BOUND,
      });
      expect(await status(n.url, a.token)).toBe("session_replaced");
    }
  }, 60_000);
});
