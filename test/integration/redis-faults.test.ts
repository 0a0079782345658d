import { rmSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { ErrorBody } from "../../server/protocol.js";
import { RedisStore } from "../../server/store/redis.js";
import {
  type ClientSocket,
  call,
  connect,
  handshakeError,
  login,
  nextDisconnect,
  nextRevocation,
} from "../support/client.js";
import {
  type NodeProcess,
  startNodeProcess,
  startNodes,
  startRedis,
  type TestRedis,
  uniquePrefix,
} from "../support/redis.js";
import { type TestServer, tempDir } from "../support/server.js";

/** Generous bound on "Redis is back" → "zombie told" (1 s reconnect backoff + one pass, on a busy CI box). */
const RECONNECT_BOUND = 5_000;
const dataDir = tempDir("solo-faults-");
const redises: TestRedis[] = [];
const servers: TestServer[] = [];
const processes: NodeProcess[] = [];
const sockets: ClientSocket[] = [];
const stores: RedisStore[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const p of processes.splice(0)) await p.kill();
  for (const s of servers.splice(0)) await s.close();
  for (const s of stores.splice(0)) await s.close();
  for (const r of redises.splice(0)) await r.destroy();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function nodesOn(redis: TestRedis, keyPrefix: string, n: number, reconcileInterval: number) {
  const nodes = await startNodes(n, { url: redis.url, keyPrefix, dataDir, reconcileInterval });
  servers.push(...nodes);
  return nodes;
}

async function socketFor(url: string, token: string): Promise<ClientSocket> {
  const s = await connect(url, token);
  s.on("session:revoked", (_notice, ack) => ack());
  sockets.push(s);
  return s;
}

/**
 * Ends a session straight in Redis, bypassing every node: the revocation notice is never
 * published. That is exactly what a notice lost in an outage leaves behind: a zombie socket.
 */
async function endBehindTheNodesBack(redis: TestRedis, keyPrefix: string, sessionId: string): Promise<void> {
  const side = new RedisStore({ url: redis.url, keyPrefix });
  stores.push(side);
  await side.ready();
  expect(await side.end(sessionId, { at: Date.now(), reason: "revoked", by: null })).not.toBeNull();
}

async function status(url: string, token: string): Promise<string> {
  const res = await call(url, "/auth/session", token);
  return res.status === 200 ? "ok" : (res.body as ErrorBody).error;
}

async function until(cond: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("Redis outage and restart (AOF on)", () => {
  it("refuses logins with 503 store_unavailable while down, keeps sockets, and resumes by itself", async () => {
    const redis = await startRedis({ aof: true });
    redises.push(redis);
    const keyPrefix = uniquePrefix("f");
    // A long timer: only the reconcile that follows the reconnect can catch the zombie in time.
    const [n1, n2, n3] = (await nodesOn(redis, keyPrefix, 3, 600_000)) as [TestServer, TestServer, TestServer];

    const alice = await login(n1.url, { username: "alice" });
    const aliceSocket = await socketFor(n2.url, alice.token);
    const bobOld = await login(n1.url, { username: "bob" });
    const bob = await login(n2.url, { username: "bob" });
    const carol = await login(n3.url, { username: "carol" });
    const carolSocket = await socketFor(n3.url, carol.token);
    await endBehindTheNodesBack(redis, keyPrefix, carol.session.id);
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
    await until(async () => (await status(n1.url, alice.token)) === "ok", "node 1 to serve again");

    // Live sessions survived the crash, replaced ones stay refused, on every node.
    for (const node of [n1, n2, n3]) {
      await until(async () => (await status(node.url, alice.token)) === "ok", `${node.url} to serve again`);
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

  it("the periodic reconcile bounds a lost notice to reconcileInterval, without any outage", async () => {
    const redis = await startRedis();
    redises.push(redis);
    const keyPrefix = uniquePrefix("p");
    const [n1] = (await nodesOn(redis, keyPrefix, 1, 300)) as [TestServer];
    const carol = await login(n1.url, { username: "carol" });
    const socket = await socketFor(n1.url, carol.token);
    const told = nextRevocation(socket, 5_000);
    await endBehindTheNodesBack(redis, keyPrefix, carol.session.id);
    expect((await told).reason).toBe("revoked");
    expect(await nextDisconnect(socket)).toBe("io server disconnect");
  });
});

describe("shutting down during an outage", () => {
  it("a node closes without waiting for Redis to come back", async () => {
    const redis = await startRedis();
    redises.push(redis);
    const [node] = (await nodesOn(redis, uniquePrefix("s"), 1, 30_000)) as [TestServer];
    const alice = await login(node.url, { username: "alice" });
    await socketFor(node.url, alice.token);
    await redis.stop({ crash: true });
    servers.splice(servers.indexOf(node), 1);
    await node.close();
    // Commands the adapter left pending fail now or at the 2 s command timeout; an unhandled
    // rejection among them would fail this run (and end a real process). Give them the time.
    await new Promise((r) => setTimeout(r, 2500));
  });
});

describe("a node killed with SIGKILL", () => {
  it("its clients reconnect to another node and keep their sessions; the cluster keeps kicking", async () => {
    const redis = await startRedis();
    redises.push(redis);
    const keyPrefix = uniquePrefix("k");
    const [n1, n2] = (await nodesOn(redis, keyPrefix, 2, 30_000)) as [TestServer, TestServer];
    const doomed = await startNodeProcess({ redis, keyPrefix, dataDir, nodeId: "node-3" });
    processes.push(doomed);

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
});
