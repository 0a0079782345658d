/**
 * Failover of a real Redis deployment under load. Redis Cluster (3 primaries, 2 replicas each)
 * and Sentinel (a primary, 2 replicas, 3 sentinels; down-after 1 s) are started once each, with
 * Debian's redis-server and redis-sentinel; 3 solo-session nodes serve racing logins and hold
 * sockets while the primary that holds a busy user's keys is SIGKILLed.
 *
 * Each node waits for one replica per session write (`redis.replicas`, the default on Cluster and
 * Sentinel); two replicas per primary keep a replica behind the new primary after a failover.
 * The figures (unavailability window, reconciliation time) are printed:
 *
 *   npx vitest run test/integration/redis-failover.test.ts   # lines "[failover] ..."
 */
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { pino } from "pino";
import { io } from "socket.io-client";
import { describe, expect, it, vi } from "vitest";
import type { ErrorBody, LoginResponse } from "../../protocol/index.js";
import { type RedisProcess, redisCli } from "../../scripts/lib/redis-topology.js";
import { RedisStore } from "../../server/store/redis/store.js";
import { type ClientSocket, call, login, nextRevocation, UA } from "../support/client.js";
import { uniquePrefix } from "../support/redis.js";
import { type RedisDeployment, useDeployment } from "../support/redis-deployments.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

const dataDir = testResources("all").dir("solo-failover-");
const resources = testResources();
/** The sockets of the current test (closed by `resources` after it). */
let sockets: ClientSocket[] = [];

/** A log line of a node, with the time it was written. */
interface Line {
  level: number;
  msg: string;
  time: number;
  why?: string;
}

/** A pino logger (info and up) whose parsed lines land in `lines`. */
function capture(lines: Line[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "info" }, stream);
}

/** One login of the load, as its client saw it. */
interface Attempt {
  user: string;
  status: number;
  code: string | null;
  sessionId: string | null;
  token: string | null;
  sentAt: number;
  answeredAt: number;
}

/** How a node answers GET /auth/session for a token: "ok" or the error code. */
async function verdict(url: string, token: string): Promise<string> {
  const res = await call(url, "/auth/session", token);
  return res.status === 200 ? "ok" : (res.body as ErrorBody).error;
}

/** When each test socket was disconnected. */
const goneAt = new WeakMap<ClientSocket, number>();

/** Connects to `/session` acknowledging every notice, like the SDK; null when refused. */
function connectAcking(url: string, token: string): Promise<ClientSocket | null> {
  const socket: ClientSocket = io(`${url}/session`, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  socket.on("session:revoked", (_notice, ack) => ack());
  socket.on("disconnect", () => goneAt.set(socket, Date.now()));
  return new Promise((resolve) => {
    socket.once("connect", () => {
      sockets.push(resources.track(socket));
      resolve(socket);
    });
    socket.once("connect_error", () => {
      socket.close();
      resolve(null);
    });
  });
}

/** Users whose keys (`{u:<id>}`) the server `port` is primary for, and users whose keys it is not. */
async function usersBy(d: RedisDeployment, keyPrefix: string, port: number, count: number) {
  const on: string[] = [];
  const off: string[] = [];
  for (let i = 0; on.length < count || off.length < count; i++) {
    const user = `user-${i}`;
    const owner = (await d.primaryFor(`${keyPrefix}:{u:${user}}:v`)).port;
    if (owner === port && on.length < count) on.push(user);
    else if (owner !== port && off.length < count) off.push(user);
    if (d.kind === "sentinel" && on.length === count) break;
  }
  return { on, off };
}

/**
 * Cuts a primary off from its replicas: drops their links and keeps them (and any other new
 * connection) from coming back (`maxclients`, which a restart resets). Writes still succeed on
 * the primary, and no replica sees them.
 */
async function cutReplicas(port: number): Promise<void> {
  const admin = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0 });
  admin.on("error", () => {});
  resources.defer(admin, (a) => a.disconnect());
  const clients = String(await admin.call("CLIENT", "LIST"))
    .trim()
    .split("\n").length;
  const replicas = String(await admin.call("CLIENT", "LIST", "TYPE", "replica"))
    .trim()
    .split("\n").length;
  await admin.call("CONFIG", "SET", "maxclients", String(clients - replicas));
  await admin.call("CLIENT", "KILL", "TYPE", "replica");
}

/** A store of the test's own on the deployment, to read what it holds. */
async function reader(d: RedisDeployment, keyPrefix: string): Promise<RedisStore> {
  const store = resources.track(new RedisStore({ ...d.connection, keyPrefix, replicas: false }));
  await store.ready();
  return store;
}

/** ms, rounded, for the printed figures. */
const ms = (n: number) => `${Math.round(n)} ms`;

describe.each(["cluster", "sentinel"] as const)("failover on Redis %s", (kind) => {
  const deployment = useDeployment(kind, { replicas: 2 });

  const scenarios: [string, "user" | "global"][] =
    kind === "cluster"
      ? [
          ["the primary of a busy user's shard", "user"],
          ["the primary of the shard holding the global indexes and the ends stream", "global"],
        ]
      : [["the primary", "user"]];

  it.each(scenarios)(
    "SIGKILL of %s while 3 nodes serve racing logins and hold sockets: 503 meanwhile, then everything resumes, nothing acknowledged is lost, no zombie is left",
    async (_name, victimOf) => {
      const d = deployment();
      const keyPrefix = uniquePrefix("fo");
      sockets = [];
      const logs: Line[][] = [[], [], []];
      const nodes: TestServer[] = [];
      for (const [i, lines] of logs.entries()) {
        const [node] = await resources.nodes(1, {
          // A timer far away: only the failover handling can reconcile in time.
          redis: { ...d.connection, keyPrefix, reconcileInterval: 600_000 },
          dataDir,
          nodeId: `node-${i + 1}`,
          rateLimit: false,
          logger: capture(lines),
        });
        nodes.push(node as TestServer);
      }
      const globalKey = `${keyPrefix}:{g}:ends`;
      const globalPrimary = await d.primaryFor(globalKey);
      // The victim: on a cluster, either a shard other than {g}'s (the busy users' shard) or {g}'s own.
      let victim: RedisProcess;
      let busy: string[];
      let others: string[];
      if (kind === "cluster" && victimOf === "user") {
        const ports = (await d.primaries()).filter((p) => p !== globalPrimary.port);
        const users = await usersBy(d, keyPrefix, ports[0] as number, 3);
        victim = (await d.primaryFor(`${keyPrefix}:{u:${users.on[0]}}:v`)).process as RedisProcess;
        [busy, others] = [users.on, users.off];
      } else {
        victim = globalPrimary.process as RedisProcess;
        const users = await usersBy(d, keyPrefix, victim.port, 3);
        [busy, others] = [users.on, users.off.length ? users.off : ["user-x", "user-y", "user-z"]];
      }

      // The load: two racing loops per busy user, one per other user; every login that succeeds
      // connects a socket to another node (a later login of that user kicks it), and every third
      // one logs out on the third node (its socket must be told, whichever way the notice goes).
      const attempts: Attempt[] = [];
      const logouts: {
        sessionId: string;
        status: number;
        code: string | null;
        answeredAt: number;
        socket: ClientSocket;
      }[] = [];
      let stopped = false;
      const racer = async (user: string, lane: number) => {
        for (let i = lane; !stopped; i++) {
          const node = nodes[i % 3] as TestServer;
          const sentAt = Date.now();
          const res = await fetch(`${node.url}/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json", "user-agent": UA.chromeMac },
            body: JSON.stringify({ username: user }),
          });
          const body = (await res.json()) as LoginResponse | ErrorBody;
          const ok = res.status === 200 ? (body as LoginResponse) : null;
          attempts.push({
            user,
            status: res.status,
            code: ok ? null : (body as ErrorBody).error,
            sessionId: ok?.session.id ?? null,
            token: ok?.token ?? null,
            sentAt,
            answeredAt: Date.now(),
          });
          const socket = ok ? await connectAcking((nodes[(i + 1) % 3] as TestServer).url, ok.token) : null;
          if (ok && socket && i % 3 === 2) {
            const out = await call((nodes[(i + 2) % 3] as TestServer).url, "/auth/logout", ok.token, {
              method: "POST",
            });
            const code = out.status === 204 ? null : (out.body as ErrorBody).error;
            logouts.push({ sessionId: ok.session.id, status: out.status, code, answeredAt: Date.now(), socket });
          }
          if (!ok) await new Promise((r) => setTimeout(r, 20)); // pace the retries during the outage
        }
      };
      const loops = [...busy.flatMap((u) => [racer(u, 0), racer(u, 1)]), ...others.map((u, i) => racer(u, i))];
      const okAfter = (users: string[], t: number) =>
        attempts.filter((a) => a.status === 200 && users.includes(a.user) && a.sentAt > t);

      // Warm: every busy user has logged in a few times, and holds a socket.
      await vi.waitFor(() => expect(okAfter(busy, 0).length).toBeGreaterThanOrEqual(busy.length * 4), {
        timeout: 30_000,
      });
      const killedAt = Date.now();
      await victim.kill("SIGKILL");
      await d.healthy();
      const healthyAt = Date.now();
      // Logins of the busy users succeed again, on every node.
      await vi.waitFor(
        () => {
          for (const user of busy) expect(okAfter([user], healthyAt).length, user).toBeGreaterThanOrEqual(3);
        },
        { timeout: 30_000, interval: 100 },
      );
      stopped = true;
      await Promise.all(loops);
      const stoppedAt = Date.now();

      // During the failover: every login either succeeded or answered 503 store_unavailable.
      const failed = attempts.filter((a) => a.status !== 200);
      expect([...new Set(failed.map((a) => `${a.status} ${a.code}`))]).toEqual(
        failed.length ? ["503 store_unavailable"] : [],
      );
      const refusedBusy = failed.filter((a) => busy.includes(a.user));
      // Logouts too: done (204) or 503 store_unavailable.
      expect([...new Set(logouts.map((l) => `${l.status} ${l.code}`))].filter((v) => v !== "204 null")).toEqual(
        logouts.some((l) => l.status !== 204) ? ["503 store_unavailable"] : [],
      );
      expect(refusedBusy.length).toBeGreaterThan(0);
      const lastOkBefore = Math.max(
        ...okAfter(busy, 0)
          .filter((a) => a.answeredAt <= killedAt)
          .map((a) => a.answeredAt),
      );
      const firstOkAfter = Math.min(...okAfter(busy, killedAt).map((a) => a.answeredAt));

      // Nothing acknowledged was lost: every session a login answered 200 for is still in the
      // store, live, replaced by a session that is there too, or logged out (a logout was sent
      // for it); every logout answered 204 is still ended; no user has two live sessions.
      const store = await reader(d, keyPrefix);
      const acknowledged = attempts.filter((a) => a.status === 200);
      for (const a of acknowledged) {
        const record = await store.get(a.sessionId as string);
        expect(
          record,
          `${a.user} ${a.sessionId} (answered ${a.answeredAt - killedAt} ms after the kill)`,
        ).not.toBeNull();
        if (record?.ended?.reason === "replaced") {
          expect(await store.get(record.ended.by?.sessionId as string)).not.toBeNull();
        } else if (record?.ended) {
          expect(record.ended.reason).toBe("logout");
          expect(logouts.map((l) => l.sessionId)).toContain(a.sessionId);
        }
      }
      for (const l of logouts.filter((x) => x.status === 204)) {
        expect((await store.get(l.sessionId))?.ended, `logout of ${l.sessionId}`).toBeTruthy();
      }
      for (const user of [...busy, ...others]) {
        expect((await store.listLive(user)).length, user).toBeLessThanOrEqual(1);
      }
      // ...and every node agrees, token by token, for the busy users' newest sessions.
      for (const user of busy) {
        const mine = acknowledged.filter((a) => a.user === user).slice(-4);
        for (const a of mine) {
          const answers = await Promise.all(nodes.map((n) => verdict(n.url, a.token as string)));
          expect(new Set(answers).size, `${user}: ${answers}`).toBe(1);
          expect(["ok", "session_replaced", "session_revoked"]).toContain(answers[0]);
        }
      }

      // No zombie: every socket still connected belongs to a live session, on every node.
      const zombies = async () => {
        const connected = sockets.filter((s) => s.connected);
        const live = await Promise.all(
          connected.map(async (s) => {
            const token = (s.auth as { token: string }).token;
            const a = acknowledged.find((x) => x.token === token);
            return (await store.get(a?.sessionId as string))?.ended === null;
          }),
        );
        return live.filter((l) => !l).length;
      };
      await vi.waitFor(async () => expect(await zombies()).toBe(0), { timeout: 15_000, interval: 100 });
      const noZombieAt = Date.now();
      // Every socket whose session was logged out was told: how long after the logout's answer.
      const logoutsDone = logouts.filter((l) => l.status === 204);
      for (const l of logoutsDone) expect(goneAt.has(l.socket)).toBe(true);
      const toldAfter = logoutsDone.map((l) => Math.max(0, (goneAt.get(l.socket) as number) - l.answeredAt));
      const toldDuring = logoutsDone
        .filter((l) => l.answeredAt >= killedAt && l.answeredAt <= healthyAt)
        .map((l) => Math.max(0, (goneAt.get(l.socket) as number) - l.answeredAt));
      // Each node re-checked its sockets after the kill: its passes (retried while a socket's
      // session was on the failing shard) until the last one that succeeded.
      const passes = logs.map((lines) =>
        lines
          .filter((l) => l.msg === "reconciled sockets" && l.why === "reconnect" && l.time > killedAt)
          .map((l) => l.time),
      );
      for (const p of passes) expect(p.length).toBeGreaterThan(0);
      const reconciledAt = passes.map((p) => Math.max(...p));
      // Every node reports its Redis connections up again.
      for (const node of nodes) {
        await vi.waitFor(async () => expect(await node.solo.registry.metrics()).toMatch(/^solo_redis_up 1$/m), {
          timeout: 10_000,
        });
      }

      // Everything resumes without restarting a node: a login on one node kicks a socket on another.
      const [n1, n2] = nodes as [TestServer, TestServer];
      const first = await login(n1.url, { username: busy[0] });
      const held = await connectAcking(n2.url, first.token);
      const told = nextRevocation(held as ClientSocket);
      await login(n2.url, { username: busy[0] });
      expect((await told).reason).toBe("replaced");

      console.log(
        [
          `[failover] ${kind}, SIGKILL of ${_name} (${victim.address}):`,
          `  logins answered: ${acknowledged.length} ok, ${failed.length} 503 store_unavailable (${refusedBusy.length} for the busy users), 0 other`,
          `  failover (kill -> deployment healthy): ${ms(healthyAt - killedAt)}`,
          `  unavailability for the busy users: last ok ${ms(killedAt - lastOkBefore)} before the kill, first ok ${ms(firstOkAfter - killedAt)} after it`,
          `  logouts: ${logoutsDone.length} done (${toldDuring.length} during the failover), ${logouts.length - logoutsDone.length} 503; their sockets told within ${ms(Math.max(0, ...toldAfter))} (max; ${ms(Math.max(0, ...toldDuring))} during the failover)`,
          `  reconciliation: each node's last successful re-check at ${reconciledAt.map((t) => ms(t - killedAt)).join(", ")} after the kill; 0 zombie sockets ${ms(noZombieAt - stoppedAt)} after the load stopped`,
        ].join("\n"),
      );

      // The killed server comes back as a replica, for the next test.
      await victim.restart();
      await d.healthy();
    },
    180_000,
  );

  it("replication is asynchronous: a write no replica confirmed is refused with WAIT, and lost by a failover without it", async () => {
    const d = deployment();
    const keyPrefix = uniquePrefix("wait");
    const [waits] = await resources.nodes(1, { redis: { ...d.connection, keyPrefix }, dataDir, nodeId: "waits" });
    const [trusts] = await resources.nodes(1, {
      redis: { ...d.connection, keyPrefix, replicas: false },
      dataDir,
      nodeId: "trusts",
    });
    const user = "walter";
    const a = await login((waits as TestServer).url, { username: user });
    const primary = (await d.primaryFor(`${keyPrefix}:{u:${user}}:v`)).process as RedisProcess;

    // The primary loses its replicas' links (they cannot come back): it still takes writes.
    await cutReplicas(primary.port);
    // With WAIT (the default here): the claim is in the primary, but no replica has it, so the
    // login is refused: 503 store_unavailable, after redis.replicas.timeout.
    const refused = await call((waits as TestServer).url, "/auth/login", null, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: user }),
    });
    expect(refused.status).toBe(503);
    expect((refused.body as ErrorBody).error).toBe("store_unavailable");
    // Without WAIT (replicas: false): the login is acknowledged.
    const c = await login((trusts as TestServer).url, { username: user });
    expect(await verdict((trusts as TestServer).url, c.token)).toBe("ok");

    // The primary dies before any replica saw those writes; a replica takes over.
    await primary.kill("SIGKILL");
    await d.healthy();

    // The acknowledged login is gone: its token is unknown on every node. The session it
    // replaced, acknowledged (and replicated) before, is live again.
    for (const node of [waits, trusts] as TestServer[]) {
      await vi.waitFor(
        async () => {
          expect(await verdict(node.url, a.token)).toBe("ok");
          expect(await verdict(node.url, c.token)).toBe("invalid_token");
        },
        { timeout: 10_000, interval: 100 },
      );
    }
    const store = await reader(d, keyPrefix);
    expect(await store.get(c.session.id)).toBeNull();
    expect((await store.listLive(user)).map((s) => s.id)).toEqual([a.session.id]);

    await primary.restart();
    await d.healthy();
    // The replication links are back: the waiting node's logins are acknowledged again.
    expect((await login((waits as TestServer).url, { username: user })).replaced.map((s) => s.id)).toEqual([
      a.session.id,
    ]);
    expect(await redisCli(primary.port, "ROLE")).toMatch(/^slave/);
  }, 120_000);
});
