import { Redis } from "ioredis";
import { runStoreContract } from "solo-session/server/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SoloError } from "../../server/errors/solo-error.js";
import { resolveOptions } from "../../server/options/resolve.js";
import { decide, type PolicySpec } from "../../server/sessions/policy.js";
import { type EndEntry, parseEndEntry } from "../../server/store/redis/codec.js";
import { RedisStore } from "../../server/store/redis/store.js";
import type { Decide, SessionStore } from "../../server/store/types.js";
import { record } from "../../server/testing/contract/fixtures.js";
import { freePort, startRedis, type TestRedis, uniquePrefix } from "../support/redis.js";

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

  it("accepts the documented choices", () => {
    for (const adapter of [true, false, "sharded", "classic"] as const) {
      expect(resolveOptions({ authenticate, store: "redis", redis: { adapter } }).redis.adapter).toBe(adapter);
    }
    expect(resolveOptions({ authenticate, store: "redis" }).redis).toEqual({
      url: "redis://127.0.0.1:6379",
      keyPrefix: "solo",
      adapter: true,
      reconcileInterval: 30_000,
    });
  });
});
