import pg from "pg";
import { runStoreContract } from "solo-session/server/testing";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { SoloError } from "../../server/errors/solo-error.js";
import { resolveOptions } from "../../server/options/resolve.js";
import { decide, type PolicySpec } from "../../server/sessions/policy.js";
import { lockKey } from "../../server/store/postgres/connection.js";
import { MIGRATIONS } from "../../server/store/postgres/schema.js";
import { PostgresStore, type PostgresStoreOptions } from "../../server/store/postgres/store.js";
import { toStoreError } from "../../server/store/shared/errors.js";
import type { Decide } from "../../server/store/types.js";
import { audit, record } from "../../server/testing/contract/fixtures.js";
import { type TestPostgres, uniqueSchema } from "../support/postgres.js";
import { testResources } from "../support/resources.js";

// One real PostgreSQL for the file; each store gets its own schema, so each test starts empty.
const shared = testResources("all");
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await shared.postgres();
});

runStoreContract({
  name: "postgres",
  open: async () => {
    const store = new PostgresStore({ url: postgres.url, schema: uniqueSchema("contract") });
    await store.ready();
    return store;
  },
});

const policy =
  (spec: PolicySpec): Decide =>
  (live) =>
    decide(spec, live, { now: Date.now(), takeover: false, abandonGrace: 60_000 });
const newestWins = policy("newest-wins");

const { track, defer } = testResources();

async function openStore(options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const store = track(new PostgresStore({ url: postgres.url, schema: uniqueSchema("s"), ...options }));
  await store.ready();
  return store;
}

/** A plain client of the test's own, closed after the test. */
async function admin(): Promise<pg.Client> {
  const client = defer(new pg.Client({ connectionString: postgres.url }), (c) => c.end().catch(() => undefined));
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Until one connection waits for a lock (the store's, queued behind the test's). */
async function waitingForLock(db: pg.Client): Promise<void> {
  await vi.waitFor(async () =>
    expect((await db.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted")).rows[0]?.n).toBe(1),
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  return error instanceof SoloError ? error.code : null;
}

describe("PostgresStore", () => {
  it("migrates once when several nodes start at once, in the configured schema and table prefix", async () => {
    const schema = uniqueSchema("mig");
    const stores = Array.from(
      { length: 5 },
      () => new PostgresStore({ url: postgres.url, schema, tablePrefix: "app_solo_" }),
    );
    for (const store of stores) track(store);
    const reports = await Promise.all(stores.map((s) => s.ready()));
    const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version;
    expect(reports.map((r) => r.version)).toEqual([latest, latest, latest, latest, latest]);
    // Exactly one node applied each migration; the others waited for the lock and found them done.
    expect(reports.flatMap((r) => r.applied)).toEqual(MIGRATIONS.map((m) => m.version));
    const db = await admin();
    const versions = await db.query(`SELECT version FROM "${schema}".app_solo_migrations ORDER BY version`);
    expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = await db.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      "app_solo_audit",
      "app_solo_ends",
      "app_solo_io_attachments",
      "app_solo_migrations",
      "app_solo_once",
      "app_solo_sessions",
    ]);
    const indexes = await db.query("SELECT indexname FROM pg_indexes WHERE schemaname = $1", [schema]);
    expect(indexes.rows.every((r) => String(r.indexname).startsWith("app_solo_"))).toBe(true);
    // A node that starts later applies nothing, and works.
    const late = await openStore({ schema, tablePrefix: "app_solo_" });
    expect((await late.ready()).applied).toEqual([]);
    const s = record("alice", Date.now());
    expect((await late.claim(s, newestWins)).kind).toBe("admitted");
    expect(await stores[0]?.get(s.id)).toEqual(s);
  });

  it("claims racing on separate pools (as on separate nodes) stay atomic under every policy", async () => {
    const schema = uniqueSchema("race");
    const nodes = [await openStore({ schema }), await openStore({ schema }), await openStore({ schema })];
    const at = Date.now();
    const cases: [PolicySpec, string, number][] = [
      ["newest-wins", "u-newest", 1],
      [{ maxSessions: 2 }, "u-max", 2],
      ["oldest-wins", "u-oldest", 1],
      ["confirm", "u-confirm", 1],
    ];
    for (const [spec, userId, expected] of cases) {
      const claims = Array.from({ length: 30 }, (_, i) =>
        (nodes[i % 3] as PostgresStore).claim(record(userId, at + i), policy(spec)),
      );
      const results = await Promise.all(claims);
      const live = await (nodes[0] as PostgresStore).listLive(userId);
      expect(live, JSON.stringify(spec)).toHaveLength(expected);
      const admitted = results.filter((r) => r.kind === "admitted");
      const evicted = admitted.flatMap((r) => (r.kind === "admitted" ? r.evicted : []));
      // Nothing admitted is lost: every admitted session is either live or was evicted exactly once.
      expect(admitted.length, JSON.stringify(spec)).toBe(live.length + evicted.length);
      expect(new Set(evicted.map((s) => s.id)).size).toBe(evicted.length);
    }
    expect(await (nodes[1] as PostgresStore).countLive()).toBe(5);
  });

  it("serialises per user, not globally: a claim waits for its own user's lock while another user's goes through", async () => {
    const store = await openStore();
    const db = await admin();
    await db.query("BEGIN");
    await db.query(`SELECT pg_advisory_xact_lock(${lockKey(store.names.lockScope, "alice")})`);
    const alice = record("alice", Date.now());
    let aliceDone = false;
    const aliceClaim = store.claim(alice, newestWins).then((r) => {
      aliceDone = true;
      return r;
    });
    const bob = record("bob", Date.now());
    expect((await store.claim(bob, newestWins)).kind).toBe("admitted");
    expect(aliceDone).toBe(false);
    await db.query("COMMIT");
    expect((await aliceClaim).kind).toBe("admitted");
    expect(await store.listLive("alice")).toEqual([alice]);
  });

  it("caps the audit trail at auditMaxLength, the cap every backend shares", async () => {
    const store = await openStore({ auditMaxLength: 100 });
    for (let i = 0; i < 3; i++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => store.appendAudit(audit("login", i * 100 + j, "u", null))),
      );
    }
    const db = await admin();
    const count = await db.query(`SELECT count(*)::int AS n FROM ${store.names.table("audit")}`);
    expect(count.rows[0]?.n).toBeLessThanOrEqual(100);
    expect(count.rows[0]?.n).toBeGreaterThanOrEqual(99);
    const newest = await store.queryAudit({ limit: 1 });
    expect(newest[0]?.at).toBe(299);
  });

  it("batches the audit writes of one turn into one insert, ids in the order of the calls", async () => {
    const store = await openStore();
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.appendAudit(audit("login", i, "u", `s${i}`))),
    );
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b));
    const events = await store.queryAudit({ limit: 50 });
    expect(events.map((e) => e.sessionId)).toEqual(Array.from({ length: 50 }, (_, i) => `s${49 - i}`));
  });
});

/** The ends table as the nodes read it (after the store's own writes). */
async function endsOf(store: PostgresStore) {
  return (await store.ends.read(0, [], 1000)).map((e) => ({ sessionId: e.sessionId, ended: e.ended }));
}

describe("the ends table (every end, for every node to read) and its notification", () => {
  it("each claim, end and endAll inserts its ended sessions and notifies the channel when it commits; nothing else does", async () => {
    const store = await openStore();
    const listener = await admin();
    const heard: string[] = [];
    listener.on("notification", (n) => heard.push(n.channel));
    await listener.query(`LISTEN "${store.ends.channel}"`);
    const now = Date.now();

    const a1 = record("alice", now);
    await store.claim(a1, newestWins);
    expect(await endsOf(store)).toEqual([]);

    const a2 = record("alice", now + 1);
    await store.claim(a2, newestWins);
    const [replaced] = await endsOf(store);
    expect(replaced?.sessionId).toBe(a1.id);
    expect(replaced?.ended).toEqual((await store.get(a1.id))?.ended);
    expect(replaced?.ended.reason).toBe("replaced");

    // A refused claim ends nothing, and announces nothing.
    expect((await store.claim(record("alice", now + 2), policy("confirm"))).kind).toBe("refused");
    expect(await endsOf(store)).toHaveLength(1);

    const logout = { at: now + 3, reason: "logout" as const, by: null };
    expect(await store.end(a2.id, logout)).not.toBeNull();
    expect(await store.end(a2.id, logout)).toBeNull();
    expect((await endsOf(store)).slice(1)).toEqual([{ sessionId: a2.id, ended: logout }]);

    const b1 = record("bob", now);
    const b2 = record("bob", now + 1);
    await store.claim(b1, policy({ maxSessions: 2 }));
    await store.claim(b2, policy({ maxSessions: 2 }));
    const revoked = { at: now + 4, reason: "revoked" as const, by: null };
    expect(await store.endAll("bob", revoked)).toHaveLength(2);
    expect((await endsOf(store)).slice(2)).toEqual([
      { sessionId: b1.id, ended: revoked },
      { sessionId: b2.id, ended: revoked },
    ]);
    // One notification per ending transaction (claim, end, endAll), on the ends channel only.
    await vi.waitFor(() => expect(heard).toHaveLength(3));
    expect(new Set(heard)).toEqual(new Set([store.ends.channel]));
  });

  it("purge keeps the newest endsMaxLength rows of the ends table", async () => {
    const store = await openStore({ endsMaxLength: 5 });
    for (let i = 0; i < 12; i++) await store.claim(record("carol", Date.now() + i), newestWins);
    expect(await endsOf(store)).toHaveLength(11);
    await store.purge(0, 0);
    const left = await store.ends.read(0, [], 100);
    expect(left).toHaveLength(5);
    expect(await store.ends.oldest()).toBe(left[0]?.id);
    expect(await store.ends.newest()).toBe(left[4]?.id);
  });
});

describe("unavailable is 503: the one shared error mapping", () => {
  it("a pool with no connection free answers store_unavailable after connectionTimeoutMillis, without hanging", async () => {
    const store = await openStore({ pool: { max: 1, connectionTimeoutMillis: 200 } });
    const db = await admin();
    // The store's one connection waits for alice's lock, held by the test.
    await db.query("BEGIN");
    await db.query(`SELECT pg_advisory_xact_lock(${lockKey(store.names.lockScope, "alice")})`);
    const blocked = store.claim(record("alice", Date.now()), newestWins);
    await waitingForLock(db);
    const started = performance.now();
    expect(await codeOf(store.get("x"))).toBe("store_unavailable");
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(2000);
    await db.query("COMMIT");
    expect((await blocked).kind).toBe("admitted");
    expect(await store.get("x")).toBeNull();
  });

  it("a statement past queryTimeout is cancelled by the server and answers store_unavailable", async () => {
    const store = await openStore({ queryTimeout: 300 });
    const db = await admin();
    await db.query("BEGIN");
    await db.query(`SELECT pg_advisory_xact_lock(${lockKey(store.names.lockScope, "alice")})`);
    expect(await codeOf(store.claim(record("alice", Date.now()), newestWins))).toBe("store_unavailable");
    await db.query("COMMIT");
    expect((await store.claim(record("alice", Date.now()), newestWins)).kind).toBe("admitted");
  });

  it("a connection terminated by an administrator (57P01) mid-transaction answers store_unavailable; the store goes on", async () => {
    const store = await openStore({ applicationName: "solo-terminated" });
    const db = await admin();
    await db.query("BEGIN");
    await db.query(`SELECT pg_advisory_xact_lock(${lockKey(store.names.lockScope, "alice")})`);
    const blocked = codeOf(store.claim(record("alice", Date.now()), newestWins));
    await waitingForLock(db);
    await db.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'solo-terminated' AND wait_event_type = 'Lock'",
    );
    expect(await blocked).toBe("store_unavailable");
    await db.query("COMMIT");
    expect((await store.claim(record("alice", Date.now()), newestWins)).kind).toBe("admitted");
  });

  it("too many connections for the role (53300) answers store_unavailable", async () => {
    const db = await admin();
    const role = uniqueSchema("r");
    await db.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
    await db.query(`GRANT CREATE ON DATABASE postgres TO ${role}`);
    const store = new PostgresStore({
      url: postgres.url.replace("postgres@", `${role}@`),
      schema: uniqueSchema("limited"),
    });
    track(store);
    expect(await codeOf(store.ready(300))).toBe("store_unavailable");
    expect(await codeOf(store.ping())).toBe("store_unavailable");
    await db.query(`ALTER ROLE ${role} CONNECTION LIMIT -1`);
    await store.ready();
    await store.ping();
  });

  it("maps the server's unavailable SQLSTATEs and node-postgres's connection failures, and nothing else", () => {
    const serverError = (code: string) =>
      Object.assign(new pg.DatabaseError("x", 1, "error"), { code, severity: "FATAL" });
    for (const code of ["57P01", "57P02", "57P03", "53300", "08006", "08001", "57014", "25P03", "40P01"]) {
      const mapped = toStoreError(serverError(code));
      expect(mapped, code).toBeInstanceOf(SoloError);
      expect((mapped as SoloError).code, code).toBe("store_unavailable");
    }
    for (const code of ["23505", "42P01", "22P02", "53100"]) {
      const error = serverError(code);
      expect(toStoreError(error), code).toBe(error);
    }
    for (const message of [
      "Connection terminated unexpectedly",
      "timeout exceeded when trying to connect",
      "Query read timeout",
      "connect ECONNREFUSED 127.0.0.1:5432",
    ]) {
      expect((toStoreError(new Error(message)) as SoloError).code, message).toBe("store_unavailable");
    }
  });

  it("while the server is down every call fails fast with store_unavailable; the same instance resumes after a restart", async () => {
    const store = await openStore();
    const s = record("alice", Date.now());
    await store.claim(s, newestWins);
    await postgres.stop();
    for (const attempt of [
      () => store.get(s.id),
      () => store.claim(record("alice", Date.now()), newestWins),
      () => store.ping(),
      () => store.listLive("alice"),
      () => store.appendAudit(audit("login", 1, "alice", s.id)),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SoloError);
      expect((error as SoloError).code).toBe("store_unavailable");
      expect((error as SoloError).status).toBe(503);
    }
    await postgres.start();
    await vi.waitFor(() => store.ping(), { timeout: 10_000, interval: 50 });
    // The data survived (a real restart, not a new server), and the store works without a restart.
    expect(await store.get(s.id)).toEqual(s);
    const again = record("alice", Date.now());
    const result = await store.claim(again, newestWins);
    expect(result.kind === "admitted" && result.evicted.map((e) => e.id)).toEqual([s.id]);
  });

  it("ready() rejects with store_unavailable when nothing answers", async () => {
    const store = new PostgresStore({ url: "postgres://postgres@127.0.0.1:1/postgres", schema: uniqueSchema("none") });
    track(store);
    expect(await codeOf(store.ready(300))).toBe("store_unavailable");
  });
});

describe("postgres options", () => {
  const authenticate = () => null;
  it.each([
    ["url", { url: "mysql://localhost/db" }],
    ["schema", { schema: "Has-Caps" }],
    ["tablePrefix", { tablePrefix: "bad prefix" }],
    ["schema", { schema: "a".repeat(30), tablePrefix: "b".repeat(20) }],
    ["pool.max", { pool: { max: 0 } }],
    ["pool.connectionTimeoutMillis", { pool: { connectionTimeoutMillis: 0 } }],
    ["adapter", { adapter: "kafka" as unknown as boolean }],
    ["reconcileInterval", { reconcileInterval: 5 }],
    ["endsPollInterval", { endsPollInterval: 1 }],
  ])("createSoloServer refuses postgres.%s with a TypeError naming it, before connecting", (name, postgresOptions) => {
    expect(() => resolveOptions({ authenticate, store: "postgres", postgres: postgresOptions })).toThrow(
      new RegExp(`options\\.postgres\\.${name.replace(".", "\\.")}`),
    );
  });

  it("accepts the documented choices and defaults", () => {
    const resolved = resolveOptions({ authenticate, store: "postgres", postgres: { url: "postgres://h/db" } }).postgres;
    expect(resolved).toEqual({
      url: "postgres://h/db",
      schema: "public",
      tablePrefix: "solo_",
      pool: { max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000 },
      adapter: "postgres",
      reconcileInterval: 30_000,
      endsPollInterval: 1000,
    });
    const pool = defer(new pg.Pool(), (p) => p.end());
    expect(resolveOptions({ authenticate, store: "postgres", postgres: { pool } }).postgres.pool).toBe(pool);
    const adapterOf = (options: Parameters<typeof resolveOptions>[0]) => resolveOptions(options).postgres.adapter;
    for (const [adapter, expected] of [
      [true, "postgres"],
      [false, false],
      ["postgres", "postgres"],
      ["redis", "redis"],
    ] as const) {
      expect(adapterOf({ authenticate, store: "postgres", postgres: { adapter } })).toBe(expected);
    }
    // Both configured: the Redis adapter carries the cross-node traffic, the store stays on PostgreSQL.
    expect(adapterOf({ authenticate, store: "postgres", redis: { url: "redis://r:6379" } })).toBe("redis");
  });

  it("the store refuses a bad schema or prefix with a TypeError", () => {
    expect(() => new PostgresStore({ schema: "x; DROP TABLE y" })).toThrow(TypeError);
    expect(() => new PostgresStore({ tablePrefix: '"' })).toThrow(TypeError);
    expect(() => new PostgresStore({ queryTimeout: 0 })).toThrow(TypeError);
  });
});
