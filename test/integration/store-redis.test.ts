import { type Command, Redis } from "ioredis";
import { runStoreContract } from "solo-session/server/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { redisCli } from "../../scripts/lib/redis-topology.js";
import { SoloError } from "../../server/errors/solo-error.js";
import { resolveOptions } from "../../server/options/resolve.js";
import { decide, type PolicySpec } from "../../server/sessions/policy.js";
import { type EndEntry, parseEndEntry } from "../../server/store/redis/codec.js";
import { RedisStore } from "../../server/store/redis/store.js";
import type { Decide, SessionStore } from "../../server/store/types.js";
import { record } from "../../server/testing/contract/fixtures.js";
import { freePort, holdConnectionDown, startRedis, type TestRedis, uniquePrefix } from "../support/redis.js";
import { useDeployment } from "../support/redis-deployments.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.destroy();
});

// One real redis-server for the file; each store gets its own key prefix, so each test starts empty.
runStoreContract({
  name: "redis",
  open: async () => {
    const store = new RedisStore({ url: redis.url, keyPrefix: uniquePrefix("contract") });
    await store.ready();
    return store;
  },
});

const HOUR = 3_600_000;
const policy =
  (spec: PolicySpec): Decide =>
  (live) =>
    decide(spec, live, { now: Date.now(), takeover: false, abandonGrace: 60_000 });

const opened: (SessionStore | Redis)[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) {
    if (s instanceof Redis) s.disconnect();
    else await s.close();
  }
});

async function stores(n: number, options: { keyPrefix: string; url?: string }): Promise<RedisStore[]> {
  const out: RedisStore[] = [];
  for (let i = 0; i < n; i++) {
    const s = new RedisStore({ url: redis.url, ...options });
    opened.push(s);
    await s.ready();
    out.push(s);
  }
  return out;
}

describe("RedisStore", () => {
  it("claims racing on separate connections (as on separate nodes) stay atomic under every policy", async () => {
    const keyPrefix = uniquePrefix("race");
    const nodes = await stores(3, { keyPrefix });
    const at = Date.now();
    const cases: [PolicySpec, string, number][] = [
      ["newest-wins", "u-newest", 1],
      [{ maxSessions: 2 }, "u-max", 2],
      ["oldest-wins", "u-oldest", 1],
      ["confirm", "u-confirm", 1],
    ];
    for (const [spec, userId, expected] of cases) {
      const claims = Array.from({ length: 30 }, (_, i) =>
        (nodes[i % 3] as RedisStore).claim(record(userId, at + i), policy(spec)),
      );
      const results = await Promise.all(claims);
      const live = await (nodes[0] as RedisStore).listLive(userId);
      expect(live, JSON.stringify(spec)).toHaveLength(expected);
      const admitted = results.filter((r) => r.kind === "admitted");
      const evicted = admitted.flatMap((r) => (r.kind === "admitted" ? r.evicted : []));
      // Nothing admitted is lost: every admitted session is either live or was evicted exactly once.
      expect(admitted.length, JSON.stringify(spec)).toBe(live.length + evicted.length);
      expect(new Set(evicted.map((s) => s.id)).size).toBe(evicted.length);
    }
    expect(await (nodes[1] as RedisStore).countLive()).toBe(5);
  });

  it("keeps all of one user's keys under one hash tag, and gives records TTLs that match the token", async () => {
    const keyPrefix = uniquePrefix("layout");
    const [store] = (await stores(1, { keyPrefix })) as [RedisStore];
    const retention = 24 * HOUR;
    const s = record("ali{ce}", Date.now());
    await store.claim(s, policy("newest-wins"));
    const next = record("ali{ce}", Date.now());
    await store.claim(next, policy("newest-wins"));
    await store.appendAudit({
      kind: "login",
      at: Date.now(),
      userId: "ali{ce}",
      sessionId: s.id,
      device: null,
      node: "n",
      by: null,
      delivery: null,
      detail: null,
    });
    await store.updateDelivery(s.id, "delivered");

    const probe = new Redis(redis.url);
    opened.push(probe);
    const keys = (await probe.keys(`${keyPrefix}:*`)).sort();
    const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1] ?? null;
    const userKeys = keys.filter((k) => k.includes(":{u:"));
    expect(userKeys.length).toBe(5); // two records, the live set, the version, the replaced set
    expect(new Set(userKeys.map(tag))).toEqual(new Set(["u:ali{ce"]));
    expect(keys.filter((k) => tag(k) === "g").map((k) => k.slice(keyPrefix.length))).toEqual(
      [":{g}:audit", ":{g}:created", ":{g}:ended", ":{g}:ends", ":{g}:exp", ":{g}:seen"].sort(),
    );
    // The rest are one-key lookups (session → user, delivery state): no multi-key operation uses them.
    expect(keys.filter((k) => tag(k) === null).sort()).toEqual(
      [`${keyPrefix}:dlv:${s.id}`, `${keyPrefix}:sid:${next.id}`, `${keyPrefix}:sid:${s.id}`].sort(),
    );

    const lifetime = s.expiresAt - s.createdAt + retention;
    for (const key of [`${keyPrefix}:{u:ali{ce}}:s:${s.id}`, `${keyPrefix}:sid:${s.id}`]) {
      const ttl = await probe.pttl(key);
      expect(ttl, key).toBeGreaterThan(lifetime - 10_000);
      expect(ttl, key).toBeLessThanOrEqual(lifetime);
    }
    for (const key of [
      `${keyPrefix}:{u:ali{ce}}:live`,
      `${keyPrefix}:{u:ali{ce}}:v`,
      `${keyPrefix}:{u:ali{ce}}:replaced`,
    ]) {
      expect(await probe.pttl(key), key).toBeGreaterThan(lifetime - 10_000);
    }
  });

  it("fails fast with store_unavailable while Redis is down and resumes on the same instance", async () => {
    const own = await startRedis();
    try {
      const [store] = (await stores(1, { keyPrefix: uniquePrefix("down"), url: own.url })) as [RedisStore];
      const s = record("alice", Date.now());
      await store.claim(s, policy("newest-wins"));
      await own.stop({ crash: true });
      for (const attempt of [
        () => store.get(s.id),
        () => store.claim(record("alice", Date.now()), policy("newest-wins")),
        () => store.ping(),
        () => store.listLive("alice"),
      ]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SoloError);
        expect((error as SoloError).code).toBe("store_unavailable");
        expect((error as SoloError).status).toBe(503);
      }
      await own.start();
      await vi.waitFor(() => store.ping(), { timeout: 10_000, interval: 50 });
      // No persistence in this server: the data is gone, but the store works again without a restart.
      const again = record("alice", Date.now());
      expect((await store.claim(again, policy("newest-wins"))).kind).toBe("admitted");
      expect(await store.get(again.id)).toEqual(again);
    } finally {
      await own.destroy();
    }
  });

  it("ready() rejects with store_unavailable when nothing answers", async () => {
    const store = new RedisStore({ url: `redis://127.0.0.1:${await freePort()}` });
    opened.push(store);
    const error = await store.ready(300).catch((e: unknown) => e);
    expect((error as SoloError).code).toBe("store_unavailable");
  });

  it("refuses a key prefix with braces (it would break the hash tags)", () => {
    expect(() => new RedisStore({ keyPrefix: "a{b}" })).toThrow(TypeError);
  });
});

/** The ends stream as the nodes read it, read on the store's own connection (so after its writes). */
async function endsOf(store: RedisStore): Promise<Omit<EndEntry, "id">[]> {
  const entries = await store.client.xrange(store.endsKey, "-", "+");
  return entries.map(([id, fields]) => {
    const entry = parseEndEntry(id, fields);
    if (!entry) throw new Error(`malformed ends entry ${id}`);
    return { sessionId: entry.sessionId, ended: entry.ended };
  });
}

/** Claims, ends and end-alls, checking the ends stream after each: what every node reads. */
async function endsScenario(store: RedisStore): Promise<void> {
  const now = Date.now();
  const a1 = record("alice", now);
  await store.claim(a1, policy("newest-wins"));
  expect(await endsOf(store)).toEqual([]);

  const a2 = record("alice", now + 1);
  await store.claim(a2, policy("newest-wins"));
  const [replaced] = await endsOf(store);
  expect(replaced?.sessionId).toBe(a1.id);
  expect(replaced?.ended.reason).toBe("replaced");
  expect(replaced?.ended.by?.sessionId).toBe(a2.id);
  expect(replaced?.ended).toEqual((await store.get(a1.id))?.ended);

  // A refused claim ends nothing, and announces nothing.
  expect((await store.claim(record("alice", now + 2), policy("confirm"))).kind).toBe("refused");
  expect(await endsOf(store)).toHaveLength(1);

  const logout = { at: now + 3, reason: "logout" as const, by: null };
  expect(await store.end(a2.id, logout)).not.toBeNull();
  expect(await store.end(a2.id, logout)).toBeNull(); // not live any more: no second entry
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
}

describe("the ends stream (every end, for every node to read)", () => {
  it("on one Redis server, each claim, end and endAll appends its ended sessions inside its own commit", async () => {
    const [store] = (await stores(1, { keyPrefix: uniquePrefix("ends") })) as [RedisStore];
    expect(store.endsInScript).toBe(true);
    await endsScenario(store);
  });

  it("on a one-shard Redis Cluster, where a script may not reach a second slot, appends right after the commit", async () => {
    const own = await startRedis({ cluster: true });
    try {
      const [store] = (await stores(1, { keyPrefix: uniquePrefix("ends"), url: own.url })) as [RedisStore];
      // The probe found that this deployment refuses cross-slot scripts (CROSSSLOT)...
      expect(store.endsInScript).toBe(false);
      const crossSlot = await store.client
        .eval("return 1", 2, "{u:a}:x", store.endsKey)
        .catch((error: unknown) => (error as Error).message);
      expect(crossSlot).toMatch(/^CROSSSLOT/);
      // ...and every end still reaches the stream.
      await endsScenario(store);
    } finally {
      await own.destroy();
    }
  });

  it("caps the stream at endsMaxLength (approximately, as XADD MAXLEN ~ does)", async () => {
    const store = new RedisStore({ url: redis.url, keyPrefix: uniquePrefix("cap"), endsMaxLength: 100 });
    opened.push(store);
    await store.ready();
    for (let i = 0; i < 300; i++) await store.claim(record("carol", Date.now() + i), policy("newest-wins"));
    const length = await store.client.xlen(store.endsKey);
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(299);
    expect(() => new RedisStore({ endsMaxLength: 0 })).toThrow(TypeError);
  });
});

describe("the audit stream", () => {
  it("caps the stream at auditMaxLength (approximately, as XADD MAXLEN ~ does), the cap every backend shares", async () => {
    const keyPrefix = uniquePrefix("audit-cap");
    const store = new RedisStore({ url: redis.url, keyPrefix, auditMaxLength: 100 });
    opened.push(store);
    await store.ready();
    const event = { userId: "u", sessionId: null, device: null, node: "n", by: null, delivery: null, detail: null };
    for (let i = 0; i < 300; i++) await store.appendAudit({ ...event, kind: "login", at: Date.now() });
    const length = await store.client.xlen(`${keyPrefix}:{g}:audit`);
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(299);
  });
});

describe("the push goes out before the index bookkeeping", () => {
  /** Records, for every pipeline the store's connection runs, the keys it adds to and whether its replies came back. */
  function watchPipelines(store: RedisStore): { zaddKeys: string[]; settled: boolean }[] {
    const seen: { zaddKeys: string[]; settled: boolean }[] = [];
    const client = store.client;
    const original = client.pipeline.bind(client);
    client.pipeline = ((...args: Parameters<typeof client.pipeline>) => {
      const pipeline = original(...args);
      const entry = { zaddKeys: [] as string[], settled: false };
      const methods = pipeline as unknown as Record<string, (...a: unknown[]) => unknown>;
      const zadd = methods.zadd?.bind(pipeline);
      methods.zadd = (...a: unknown[]) => {
        entry.zaddKeys.push(String(a[0]));
        return zadd?.(...a);
      };
      const exec = pipeline.exec.bind(pipeline);
      pipeline.exec = ((...execArgs: Parameters<typeof pipeline.exec>) => {
        seen.push(entry);
        const result = exec(...execArgs);
        const settle = () => {
          entry.settled = true;
        };
        result.then(settle, settle);
        return result;
      }) as typeof pipeline.exec;
      return pipeline;
    }) as typeof client.pipeline;
    return seen;
  }

  it("claim, end and endAll resolve while their index updates are still in flight, and the indexes end up right", async () => {
    const keyPrefix = uniquePrefix("push");
    const [store] = (await stores(1, { keyPrefix })) as [RedisStore];
    const seen = watchPipelines(store);
    // The bookkeeping after an end: out of the live indexes, into the purge index `{g}:ended`.
    const endedIndex = `${keyPrefix}:{g}:ended`;
    const bookkeeping = () => seen.filter((p) => p.zaddKeys.includes(endedIndex)).at(-1);

    const old = record("dave", Date.now());
    await store.claim(old, policy("newest-wins"));
    const next = record("dave", Date.now() + 1);
    const claimed = await store.claim(next, policy("newest-wins"));
    expect(claimed.kind === "admitted" && claimed.evicted.map((s) => s.id)).toEqual([old.id]);
    // Sent, not yet answered: the caller could push the notice one round trip sooner.
    expect(bookkeeping()).toEqual(expect.objectContaining({ settled: false }));

    expect(await store.end(next.id, { at: Date.now(), reason: "logout", by: null })).not.toBeNull();
    expect(bookkeeping()).toEqual(expect.objectContaining({ settled: false }));

    const e1 = record("erin", Date.now());
    await store.claim(e1, policy({ maxSessions: 2 }));
    expect(await store.endAll("erin", { at: Date.now(), reason: "revoked", by: null })).toHaveLength(1);
    expect(bookkeeping()).toEqual(expect.objectContaining({ settled: false }));

    // Commands on the one connection run in order: the next reads see the bookkeeping done.
    expect(await store.countLive()).toBe(0);
    expect((await store.listAllLive({})).sessions).toEqual([]);
    expect(await store.client.zcard(endedIndex)).toBe(3);
  });
});

describe("redis options", () => {
  const authenticate = () => null;
  it.each([
    [{ url: "http://127.0.0.1:6379" }],
    [{ keyPrefix: "has space" }],
    [{ keyPrefix: "a{b}" }],
    [{ adapter: "dynamic" as unknown as boolean }],
    [{ reconcileInterval: 5 }],
  ])("createSoloServer refuses %o with a TypeError, before connecting", (redisOptions) => {
    expect(() => resolveOptions({ authenticate, store: "redis", redis: redisOptions })).toThrow(TypeError);
  });

  it.each([
    [{ url: "redis://a:1", cluster: [{ host: "a", port: 1 }] }],
    [{ cluster: [] }],
    [{ cluster: [{ host: "a", port: 0 }] }],
    [{ cluster: [{ host: "has space", port: 7000 }] }],
    [{ cluster: "a:7000" as unknown as [] }],
    [{ sentinels: [{ host: "a", port: 26379 }] }],
    [{ sentinels: [{ host: "a", port: 26379 }], name: "" }],
    [{ name: "solo" }],
    [{ cluster: [{ host: "a", port: 7000 }], replicas: { wait: -1 } }],
    [{ cluster: [{ host: "a", port: 7000 }], replicas: { wait: 1, timeout: 0 } }],
    [{ replicas: { wait: 1.5 } }],
    [{ replicas: "yes" as unknown as false }],
  ])("createSoloServer refuses the deployment %o with a TypeError naming the option", (redisOptions) => {
    expect(() => resolveOptions({ authenticate, store: "redis", redis: redisOptions })).toThrow(
      /^createSoloServer: options\.redis\.(url|cluster|sentinels|name|replicas)/,
    );
  });

  it("accepts the documented choices", () => {
    for (const adapter of [true, false, "sharded", "classic"] as const) {
      expect(resolveOptions({ authenticate, store: "redis", redis: { adapter } }).redis.adapter).toBe(adapter);
    }
    expect(resolveOptions({ authenticate, store: "redis" }).redis).toEqual({
      target: { kind: "server", url: "redis://127.0.0.1:6379" },
      replicas: null,
      keyPrefix: "solo",
      adapter: true,
      reconcileInterval: 30_000,
    });
    const nodes = [{ host: "10.0.0.1", port: 7000 }];
    // Cluster and Sentinel wait for one replica by default; a single server waits for none.
    expect(resolveOptions({ authenticate, store: "redis", redis: { cluster: nodes } }).redis).toMatchObject({
      target: { kind: "cluster", nodes },
      replicas: { wait: 1, timeout: 500 },
    });
    expect(
      resolveOptions({ authenticate, store: "redis", redis: { sentinels: nodes, name: "solo", replicas: false } })
        .redis,
    ).toMatchObject({ target: { kind: "sentinel", sentinels: nodes, name: "solo" }, replicas: null });
    expect(
      resolveOptions({
        authenticate,
        store: "redis",
        redis: { url: "redis://r:6379", replicas: { wait: 2, timeout: 50 } },
      }).redis.replicas,
    ).toEqual({ wait: 2, timeout: 50 });
    expect(() => new RedisStore({ cluster: [] })).toThrow(/^RedisStore: cluster/);
  });
});

/**
 * Records the slots of every pipeline and transaction a store's connection runs (ioredis
 * computes a command's slot from its keys); `check()` fails the test if one spanned two slots.
 */
function watchSlots(store: RedisStore): { pipelines: number; check(): void } {
  const crossing: string[] = [];
  let pipelines = 0;
  const client = store.client;
  for (const name of ["pipeline", "multi"] as const) {
    const original = (client[name] as (...args: unknown[]) => ReturnType<Redis["pipeline"]>).bind(client);
    (client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const pipeline = original(...args);
      const exec = pipeline.exec.bind(pipeline);
      pipeline.exec = ((...execArgs: Parameters<typeof pipeline.exec>) => {
        pipelines++;
        const queue = (pipeline as unknown as { _queue: Command[] })._queue;
        const slots = new Set(queue.map((c) => c.getSlot()).filter((slot) => slot !== null && slot !== undefined));
        if (slots.size > 1) crossing.push(queue.map((c) => `${c.name} ${c.getKeys().join(" ")}`).join("; "));
        return exec(...execArgs);
      }) as typeof pipeline.exec;
      return pipeline;
    };
  }
  return {
    get pipelines() {
      return pipelines;
    },
    check: () => expect(crossing, "pipelines that span slots").toEqual([]),
  };
}

describe("on a Redis Cluster (3 primaries, a replica each)", () => {
  const deployment = useDeployment("cluster");
  const watched = new Map<RedisStore, ReturnType<typeof watchSlots>>();

  // The whole contract on a real multi-shard cluster: every command reaches its slot's primary,
  // and no pipeline, transaction or script of the store spans two slots.
  runStoreContract({
    name: "redis cluster",
    open: async () => {
      const store = new RedisStore({ ...deployment().connection, keyPrefix: uniquePrefix("contract") });
      watched.set(store, watchSlots(store));
      await store.ready();
      return store;
    },
    close: async (store) => {
      watched.get(store)?.check();
      watched.delete(store);
      await store.close();
    },
  });

  it("probes that scripts may not reach a second slot, and every end still reaches the ends stream, right after its commit", async () => {
    const store = new RedisStore({ ...deployment().connection, keyPrefix: uniquePrefix("ends") });
    opened.push(store);
    const slots = watchSlots(store);
    await store.ready();
    expect(store.endsInScript).toBe(false);
    await endsScenario(store);
    slots.check();
    expect(slots.pipelines).toBeGreaterThan(10);
  });

  it("keeps all of one user's keys in one slot, and spreads users over the shards", async () => {
    const keyPrefix = uniquePrefix("layout");
    const store = new RedisStore({ ...deployment().connection, keyPrefix });
    opened.push(store);
    await store.ready();
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    for (const user of users) {
      await store.claim(record(user, Date.now()), policy("newest-wins"));
      await store.claim(record(user, Date.now() + 1), policy("newest-wins"));
    }
    const d = deployment();
    const shards = new Set<number>();
    for (const user of users) {
      const keys = [`${keyPrefix}:{u:${user}}:v`, `${keyPrefix}:{u:${user}}:live`, `${keyPrefix}:{u:${user}}:replaced`];
      const ports = await Promise.all(keys.map(async (key) => (await d.primaryFor(key)).port));
      expect(new Set(ports).size, user).toBe(1);
      shards.add(ports[0] as number);
      for (const key of keys) expect(Number(await redisCli(ports[0] as number, "EXISTS", key)), key).toBe(1);
    }
    expect(shards.size).toBeGreaterThan(1);
    expect(await store.countLive()).toBe(users.length);
  });
});

describe("writes that wait for replicas (WAIT)", () => {
  const sentinel = useDeployment("sentinel");

  it("on a server without replicas, a claim and an end answer store_unavailable: committed, never acknowledged", async () => {
    const store = new RedisStore({
      url: redis.url,
      keyPrefix: uniquePrefix("wait0"),
      replicas: { wait: 1, timeout: 50 },
    });
    opened.push(store);
    await store.ready();
    const s = record("alice", Date.now());
    const claimed = await store.claim(s, policy("newest-wins")).catch((e: unknown) => e);
    expect((claimed as SoloError).code).toBe("store_unavailable");
    // The claim is in the primary (a failover could lose it), so the caller was not told "done".
    expect((await store.get(s.id))?.ended).toBeNull();
    const ended = await store.end(s.id, { at: Date.now(), reason: "logout", by: null }).catch((e: unknown) => e);
    expect((ended as SoloError).code).toBe("store_unavailable");
    expect((await store.get(s.id))?.ended?.reason).toBe("logout");
  });

  it("on Sentinel, writes are acknowledged once the replica has them; cut off from it, the primary's writes are refused until it is back", async () => {
    const d = sentinel();
    const store = new RedisStore({
      ...d.connection,
      keyPrefix: uniquePrefix("wait1"),
      replicas: { wait: 1, timeout: 200 },
    });
    opened.push(store);
    await store.ready();
    expect(store.replicasWaitedFor).toBe(1);
    const a = record("bob", Date.now());
    expect((await store.claim(a, policy("newest-wins"))).kind).toBe("admitted");

    // Drop the replica's link and keep it from coming back.
    const { port } = await d.primaryFor("any");
    const admin = new Redis({ host: "127.0.0.1", port });
    opened.push(admin);
    const [link] = String(await admin.call("CLIENT", "LIST", "TYPE", "replica"))
      .trim()
      .split("\n")
      .map((line) => /^id=(\d+)/.exec(line)?.[1] as string);
    const release = await holdConnectionDown(admin, link as string);
    try {
      const b = record("bob", Date.now() + 1);
      const refused = await store.claim(b, policy("newest-wins")).catch((e: unknown) => e);
      expect((refused as SoloError).code).toBe("store_unavailable");
      const all = await store.endAll("bob", { at: Date.now(), reason: "revoked", by: null }).catch((e: unknown) => e);
      expect((all as SoloError).code).toBe("store_unavailable");
    } finally {
      await release();
    }
    await d.healthy();
    const c = record("bob", Date.now() + 2);
    expect((await store.claim(c, policy("newest-wins"))).kind).toBe("admitted");
    expect((await store.listLive("bob")).map((s) => s.id)).toEqual([c.id]);
  });
});
