import pg from "pg";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { lockKey } from "../../server/store/postgres/connection.js";
import { call, handshakeError, login, nextDisconnect, nextRevocation } from "../support/client.js";
import { type PgNodesOptions, type TestPostgres, uniqueSchema } from "../support/postgres.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

/** Generous bound on "PostgreSQL is back" → "zombie told" (≤ 1 s reconnect backoff + one read and one pass, on a busy box). */
const RECONNECT_BOUND = 5_000;
/** Bound on "login answered (or its node died)" → "old socket on another node told", far below reconcileInterval. */
const LOST_NOTICE_BOUND = 3_000;
/** The reconcile timer of these tests: ten minutes, so that it never is what tells a socket. */
const NEVER = 600_000;

const shared = testResources("all");
let postgres: TestPostgres;
const dataDir = shared.dir("solo-pg-faults-");
beforeAll(async () => {
  // Commits wait for their WAL write, as in production: a crash of the server loses nothing
  // acknowledged (the test cluster's default, off, would lose the last 200 ms of commits).
  postgres = await shared.postgres({ settings: { synchronous_commit: "on" } });
});

const resources = testResources();

async function nodes(n: number, options: PgNodesOptions["postgres"] & { schema?: string } = {}) {
  const { schema = uniqueSchema("f"), ...postgresOptions } = options;
  return resources.pgNodes(n, {
    url: postgres.url,
    schema,
    dataDir,
    postgres: { reconcileInterval: NEVER, ...postgresOptions },
  });
}

/** A `/session` socket that acknowledges every notice, closed after the test. */
async function socketFor(url: string, token: string) {
  const s = await resources.socketFor(url, token);
  s.on("session:revoked", (_notice, ack) => ack());
  return s;
}

/** A connection of the test's own (as the superuser), closed after the test. */
async function admin(): Promise<pg.Client> {
  const client = resources.defer(new pg.Client({ connectionString: postgres.url }), (c) =>
    c.end().catch(() => undefined),
  );
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function status(url: string, token: string): Promise<string> {
  const res = await call(url, "/auth/session", token);
  return res.status === 200 ? "ok" : (res.body as ErrorBody).error;
}

/** `solo_postgres_up` of a node, as its `/metrics` would show it. */
async function postgresUp(node: TestServer): Promise<number | null> {
  const match = /^solo_postgres_up (\d+)$/m.exec(await node.solo.registry.metrics());
  return match ? Number(match[1]) : null;
}

/**
 * Ends a session straight in the database, bypassing every node: no ends row, no notification.
 * What an end no node heard of leaves behind (the table pruned past a node that fell behind, a
 * hand-made fix): a zombie socket, for the reconcile pass to find.
 */
async function endBehindTheNodesBack(schema: string, sessionId: string): Promise<void> {
  const db = await admin();
  const ended = await db.query(
    `UPDATE "${schema}".solo_sessions SET ended_at = $1, end_reason = 'revoked' WHERE id = $2 AND ended_at IS NULL`,
    [Date.now(), sessionId],
  );
  expect(ended.rowCount).toBe(1);
}

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  return (error as { code?: string } | null)?.code ?? null;
}

function loginBody(username: string): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username }) };
}

describe("PostgreSQL restarted", () => {
  it("logins answer 503 store_unavailable meanwhile, sockets stay, everything resumes without a node restart, and a socket whose session ended unheard is told after the reconnect", async () => {
    const schema = uniqueSchema("restart");
    const [n1, n2, n3] = (await nodes(3, { schema })) as [TestServer, TestServer, TestServer];

    const alice = await login(n1.url, { username: "alice" });
    const aliceSocket = await socketFor(n2.url, alice.token);
    const bobOld = await login(n1.url, { username: "bob" });
    const bob = await login(n2.url, { username: "bob" });
    const carol = await login(n3.url, { username: "carol" });
    const carolSocket = await socketFor(n3.url, carol.token);
    await endBehindTheNodesBack(schema, carol.session.id);
    const zombieTold = nextRevocation(carolSocket, 30_000).then((notice) => ({ notice, at: Date.now() }));

    await postgres.stop({ crash: true });

    const refused = await call(n1.url, "/auth/login", null, loginBody("dave"));
    expect(refused.status).toBe(503);
    expect((refused.body as ErrorBody).error).toBe("store_unavailable");
    const check = await call(n2.url, "/auth/session", alice.token);
    expect(check.status).toBe(503);
    expect((check.body as ErrorBody).error).toBe("store_unavailable");
    const api = await call(n3.url, "/api/notes", alice.token);
    expect(api.status).toBe(503);
    expect((api.body as ErrorBody).error).toBe("store_unavailable");
    expect((await handshakeError(n3.url, alice.token)).message).toBe("store_unavailable");
    expect(await codeOf(n1.solo.store.ping())).toBe("store_unavailable");
    await vi.waitFor(async () => expect(await postgresUp(n2)).toBe(0), { timeout: 5_000 });
    expect(aliceSocket.connected).toBe(true);
    expect(carolSocket.connected).toBe(true);

    await postgres.start();
    const restartedAt = Date.now();
    // The zombie is revoked by the reconcile that follows the listening connection's return, well
    // inside the bound (the reconcile timer is at ten minutes).
    const zombie = await zombieTold;
    expect(zombie.notice.reason).toBe("revoked");
    expect(zombie.at - restartedAt).toBeLessThan(RECONNECT_BOUND);
    // Live sessions survived (the database is durable), replaced and ended ones stay refused, on
    // every node.
    for (const node of [n1, n2, n3]) {
      await vi.waitFor(async () => expect(await status(node.url, alice.token)).toBe("ok"), { timeout: 15_000 });
      expect(await status(node.url, bob.token)).toBe("ok");
      expect(await status(node.url, bobOld.token)).toBe("session_replaced");
      expect(await status(node.url, carol.token)).toBe("session_revoked");
    }
    expect(aliceSocket.connected).toBe(true);
    for (const node of [n1, n2, n3]) await vi.waitFor(async () => expect(await postgresUp(node)).toBe(1));

    // The notification path is back too: a new login on node 1 kicks the socket held by node 2.
    const aliceTold = nextRevocation(aliceSocket);
    const kickedAt = Date.now();
    await login(n1.url, { username: "alice" });
    expect((await aliceTold).reason).toBe("replaced");
    expect(Date.now() - kickedAt).toBeLessThan(LOST_NOTICE_BOUND);
  }, 90_000);

  it("a session ended by a node right after the restart, before another node listens again, still reaches that node's socket", async () => {
    const [n1, n2] = (await nodes(2)) as [TestServer, TestServer];
    const alice = await login(n1.url, { username: "alice" });
    const socket = await socketFor(n2.url, alice.token);
    const told = nextRevocation(socket, 15_000);
    await postgres.stop({ crash: true });
    await postgres.start();
    // As soon as node 1 can log in again (its pool reconnects on demand), whether or not node 2's
    // listening connection is back yet: node 2 reads the ends table after it reconnects.
    await vi.waitFor(
      async () => expect((await call(n1.url, "/auth/login", null, loginBody("alice"))).status).toBe(200),
      {
        timeout: 15_000,
        interval: 20,
      },
    );
    const notice = await told;
    expect(notice.sessionId).toBe(alice.session.id);
    expect(notice.reason).toBe("replaced");
  }, 60_000);
});

describe("a node killed with SIGKILL", () => {
  it("its clients reconnect to another node and keep their sessions; the cluster keeps kicking", async () => {
    const schema = uniqueSchema("kill");
    const [n1, n2] = (await nodes(2, { schema })) as [TestServer, TestServer];
    const doomed = await resources.pgNodeProcess({ url: postgres.url, schema, dataDir, nodeId: "node-3" });

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

  it("the claiming node dies between its commit and anything after it: the other node's socket is told in milliseconds (the commit notified)", async () => {
    const schema = uniqueSchema("dk");
    // Neither the reconcile timer nor the ends poll may be what tells the socket.
    const [n2] = (await nodes(1, { schema, endsPollInterval: NEVER })) as [TestServer];
    const doomed = await resources.pgNodeProcess({
      url: postgres.url,
      schema,
      dataDir,
      nodeId: "node-doomed",
      dieAfterCommit: true,
    });

    const alice = await login(n2.url, { username: "alice" });
    const socket = await socketFor(n2.url, alice.token);
    const told = nextRevocation(socket, 10_000).then((notice) => ({ notice, at: Date.now() }));

    // The doomed node commits the claim that replaces alice's session, then dies before it
    // returns: no push, no adapter message, no answer.
    const sentAt = Date.now();
    const answer = await call(doomed.url, "/auth/login", null, loginBody("alice")).catch((error: unknown) => error);
    expect(answer).toBeInstanceOf(Error);
    await doomed.kill();

    const { notice, at } = await told;
    expect(notice.reason).toBe("replaced");
    expect(notice.sessionId).toBe(alice.session.id);
    expect(at - sentAt).toBeLessThan(LOST_NOTICE_BOUND);
    expect(await status(n2.url, alice.token)).toBe("session_replaced");
  }, 30_000);
});

describe("a connection pool exhausted", () => {
  it("a login that finds no free connection answers 503 store_unavailable after connectionTimeoutMillis, and the node resumes when one frees", async () => {
    const schema = uniqueSchema("pool");
    const [node] = (await nodes(1, { schema, pool: { max: 1, connectionTimeoutMillis: 300 } })) as [TestServer];
    const db = await admin();
    // The node's one pooled connection waits for a lock the test holds (alice's, through her claim).
    await db.query("BEGIN");
    await db.query(`SELECT pg_advisory_xact_lock(${lockKeyOf(schema, "alice")})`);
    const alicePending = call(node.url, "/auth/login", null, loginBody("alice"));
    await vi.waitFor(async () =>
      expect((await db.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted")).rows[0]?.n).toBe(1),
    );

    const started = performance.now();
    const bob = await call(node.url, "/auth/login", null, loginBody("bob"));
    const waited = performance.now() - started;
    expect(bob.status).toBe(503);
    expect((bob.body as ErrorBody).error).toBe("store_unavailable");
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3000);
    expect(await codeOf(node.solo.store.ping())).toBe("store_unavailable");

    await db.query("COMMIT");
    expect((await alicePending).status).toBe(200);
    expect((await call(node.url, "/auth/login", null, loginBody("bob"))).status).toBe(200);
    await node.solo.store.ping();
  }, 30_000);
});

describe("a lost notification: the node's listening connections are cut and kept from coming back", () => {
  /**
   * Node 2 connects as a role of its own; node 1 (the kicker) as the superuser. Cutting node 2's
   * listening connections (its ends listener and its Socket.IO adapter's) and lowering its role's
   * connection limit to the connections it keeps leaves node 2 without any notification, so
   * neither a NOTIFY of the ends channel nor the adapter's can reach it. Returns the release.
   */
  async function cutListening(db: pg.Client, role: string): Promise<() => Promise<void>> {
    const listening = "application_name LIKE 'solo-session listen %' OR application_name LIKE 'solo-session io %'";
    const kept = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND NOT (${listening})`,
      [role],
    );
    await db.query(`ALTER ROLE ${role} CONNECTION LIMIT ${kept.rows[0]?.n ?? 0}`);
    const cut = await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND (${listening})`,
      [role],
    );
    expect(cut.rowCount).toBeGreaterThanOrEqual(2);
    return async () => {
      await db.query(`ALTER ROLE ${role} CONNECTION LIMIT -1`);
    };
  }

  async function twoNodes(endsPollInterval: number) {
    const db = await admin();
    const role = uniqueSchema("node2");
    await db.query(`CREATE ROLE ${role} LOGIN`);
    await db.query(`GRANT CREATE ON DATABASE postgres TO ${role}`);
    resources.defer(role, async () => {
      await db.query(`ALTER ROLE ${role} CONNECTION LIMIT -1`);
      await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
    });
    const schema = uniqueSchema("lost");
    // Node 2 first: its role creates (and owns) the schema; node 1, the superuser, can use it.
    const [n2] = await resources.pgNodes(1, {
      url: postgres.url.replace("postgres@", `${role}@`),
      schema,
      dataDir,
      nodePrefix: "node-2",
      postgres: { reconcileInterval: NEVER, endsPollInterval },
    });
    const [n1] = await nodes(1, { schema });
    return { db, role, n1: n1 as TestServer, n2: n2 as TestServer };
  }

  it("the ends table's poll tells the socket within endsPollInterval (1 s) plus a read, while no notification can arrive", async () => {
    const { db, role, n1, n2 } = await twoNodes(1000);
    const alice = await login(n2.url, { username: "alice" });
    const socket = await socketFor(n2.url, alice.token);
    const told = nextRevocation(socket, 10_000).then((notice) => ({ notice, at: Date.now() }));

    const release = await cutListening(db, role);
    resources.defer(release, (r) => r());
    await vi.waitFor(async () => expect(await postgresUp(n2)).toBe(0), { timeout: 5_000 });

    const second = await login(n1.url, { username: "alice" });
    const answeredAt = Date.now();
    expect(second.replaced.map((s) => s.id)).toEqual([alice.session.id]);
    const { notice, at } = await told;
    expect(notice.reason).toBe("replaced");
    expect(notice.sessionId).toBe(alice.session.id);
    expect(at - answeredAt).toBeLessThan(LOST_NOTICE_BOUND);
    // Node 2 was still deaf when it told the socket: the poll did it.
    expect(await postgresUp(n2)).toBe(0);

    await release();
    await vi.waitFor(async () => expect(await postgresUp(n2)).toBe(1), { timeout: 10_000 });
    // Listening again: the next kick arrives by notification.
    const bob = await login(n2.url, { username: "bob" });
    const bobSocket = await socketFor(n2.url, bob.token);
    const bobTold = nextRevocation(bobSocket);
    const kickedAt = Date.now();
    await login(n1.url, { username: "bob" });
    expect((await bobTold).reason).toBe("replaced");
    expect(Date.now() - kickedAt).toBeLessThan(LOST_NOTICE_BOUND);
  }, 60_000);

  it("with the poll out of the way, the listening connection's return reads what it missed: told within a second or so of the reconnect", async () => {
    const { db, role, n1, n2 } = await twoNodes(NEVER);
    const alice = await login(n2.url, { username: "alice" });
    const socket = await socketFor(n2.url, alice.token);
    let toldAt: number | null = null;
    const told = nextRevocation(socket, 15_000).then((notice) => {
      toldAt = Date.now();
      return notice;
    });

    const release = await cutListening(db, role);
    resources.defer(release, (r) => r());
    await vi.waitFor(async () => expect(await postgresUp(n2)).toBe(0), { timeout: 5_000 });
    const second = await login(n1.url, { username: "alice" });
    expect(second.replaced.map((s) => s.id)).toEqual([alice.session.id]);
    expect(toldAt).toBeNull();

    await release();
    const releasedAt = Date.now();
    expect((await told).sessionId).toBe(alice.session.id);
    expect((toldAt ?? Number.POSITIVE_INFINITY) - releasedAt).toBeLessThan(RECONNECT_BOUND);
  }, 60_000);
});

describe("shutting down during an outage", () => {
  it("a node closes without waiting for PostgreSQL to come back", async () => {
    const [node] = (await nodes(1)) as [TestServer];
    const alice = await login(node.url, { username: "alice" });
    await socketFor(node.url, alice.token);
    await postgres.stop({ crash: true });
    resources.defer(postgres, (p) => p.start());
    const started = performance.now();
    await node.close();
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 30_000);
});

/** The advisory lock key of a user in a schema with the default prefix, as the store computes it. */
function lockKeyOf(schema: string, userId: string): string {
  return lockKey(`solo-session:${schema}.solo_`, userId);
}
