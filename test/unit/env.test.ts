import { describe, expect, it } from "vitest";
import { DEFAULTS, defaultTouchInterval } from "../../server/options/defaults.js";
import { parseDuration } from "../../server/options/parse-duration.js";
import { resolveOptions } from "../../server/options/resolve.js";
import { readEnv } from "../../standalone/env.js";

const authenticate = () => null;

describe("the standalone server's environment", () => {
  it("has the documented defaults", () => {
    const config = readEnv({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe("localhost");
    expect(config.options.store).toBe("sqlite");
    expect(config.options.dataDir).toBe("./data");
    expect(config.logLevel).toBe("info");
    expect(config.options.policy).toBeUndefined(); // createSoloServer's default: newest-wins
  });

  it("reads every variable", () => {
    const config = readEnv({
      PORT: "0",
      HOST: "0.0.0.0",
      SOLO_STORE: "redis",
      SOLO_DATA_DIR: "/var/lib/solo",
      REDIS_URL: "redis://10.0.0.5:6379",
      SOLO_POLICY: "max:3",
      SOLO_ALLOWED_ORIGINS: "https://app.example.com, https://admin.example.com",
      SOLO_IDLE_TIMEOUT: "90s",
      SOLO_TOUCH_INTERVAL: "20s",
      SOLO_MAX_AGE: "8h",
      SOLO_ABANDON_GRACE: "2m",
      SOLO_AUDIT_RETENTION: "30d",
      SOLO_INTROSPECT_SECRET: "0123456789abcdef",
      SOLO_TRUST_PROXY: "true",
      SOLO_PUBLIC_ORIGIN: "https://App.Example.com/",
      SOLO_TRANSPORTS: "websocket, polling",
      LOG_LEVEL: "warn",
    });
    expect(config.port).toBe(0);
    expect(config.host).toBe("0.0.0.0");
    expect(config.options).toMatchObject({
      store: "redis",
      dataDir: "/var/lib/solo",
      redis: { url: "redis://10.0.0.5:6379" },
      policy: { maxSessions: 3 },
      allowedOrigins: ["https://app.example.com", "https://admin.example.com"],
      idleTimeout: 90_000,
      touchInterval: 20_000,
      maxAge: 8 * 3600_000,
      abandonGrace: 120_000,
      auditRetention: 30 * 24 * 3600_000,
      introspectSecret: "0123456789abcdef",
      trustProxy: true,
      publicOrigin: "https://app.example.com",
      transports: ["websocket", "polling"],
    });
    expect(config.logLevel).toBe("warn");
  });

  it("reads SOLO_STORE=postgres with DATABASE_URL and SOLO_PG_SCHEMA", () => {
    const config = readEnv({
      SOLO_STORE: "postgres",
      DATABASE_URL: "postgres://solo:secret@db.internal:5432/app",
      SOLO_PG_SCHEMA: "auth",
    });
    expect(config.options.store).toBe("postgres");
    expect(config.options.postgres).toEqual({ url: "postgres://solo:secret@db.internal:5432/app", schema: "auth" });
  });

  it("refuses a wrong value with a TypeError naming the variable", () => {
    const cases: Record<string, Record<string, string>> = {
      PORT: { PORT: "http" },
      SOLO_STORE: { SOLO_STORE: "mysql" },
      SOLO_POLICY: { SOLO_POLICY: "max:0" },
      SOLO_IDLE_TIMEOUT: { SOLO_IDLE_TIMEOUT: "soon" },
      SOLO_MAX_AGE: { SOLO_MAX_AGE: "-1h" },
      SOLO_INTROSPECT_SECRET: { SOLO_INTROSPECT_SECRET: "short" },
      SOLO_PUBLIC_ORIGIN: { SOLO_PUBLIC_ORIGIN: "https://app.example.com/login" },
      SOLO_TRANSPORTS: { SOLO_TRANSPORTS: "websocket,jsonp" },
      SOLO_TOUCH_INTERVAL: { SOLO_TOUCH_INTERVAL: "often" },
    };
    for (const [name, env] of Object.entries(cases)) {
      expect(() => readEnv(env), name).toThrow(TypeError);
      expect(() => readEnv(env), name).toThrow(name);
    }
  });

  it("reads durations like 90s, 30m, 8h, 2d, 500ms, or bare seconds", () => {
    expect(parseDuration("90s", "X")).toBe(90_000);
    expect(parseDuration("30m", "X")).toBe(1_800_000);
    expect(parseDuration("8h", "X")).toBe(28_800_000);
    expect(parseDuration("2d", "X")).toBe(172_800_000);
    expect(parseDuration("500ms", "X")).toBe(500);
    expect(parseDuration("45", "X")).toBe(45_000);
    expect(parseDuration("1.5h", "X")).toBe(5_400_000);
  });
});

describe("short idle timeouts (issue 12, point 14)", () => {
  it("SOLO_IDLE_TIMEOUT=45s starts with a touch interval of a quarter of it, 11.25 s", () => {
    const config = readEnv({ SOLO_IDLE_TIMEOUT: "45s" });
    expect(config.options.touchInterval).toBeUndefined();
    const options = resolveOptions({ ...config.options, authenticate });
    expect(options.idleTimeout).toBe(45_000);
    expect(options.touchInterval).toBe(11_250);
  });

  it("derives the default touch interval from the idle timeout: a quarter, at most 60 s", () => {
    expect(resolveOptions({ authenticate }).touchInterval).toBe(60_000); // 30 min idle
    expect(DEFAULTS.touchInterval).toBe(60_000);
    for (const [idle, touch] of [
      [1000, 250],
      [45_000, 11_250],
      [60_000, 15_000],
      [240_000, 60_000],
      [241_000, 60_000],
      [8 * 3600_000, 60_000],
    ] as const) {
      expect(defaultTouchInterval(idle), String(idle)).toBe(touch);
      expect(resolveOptions({ authenticate, idleTimeout: idle }).touchInterval, String(idle)).toBe(touch);
    }
  });

  it("keeps an explicit touch interval, and refuses one not shorter than the idle timeout with a TypeError", () => {
    expect(resolveOptions({ authenticate, idleTimeout: 45_000, touchInterval: 5000 }).touchInterval).toBe(5000);
    expect(() => resolveOptions({ authenticate, idleTimeout: 45_000, touchInterval: 45_000 })).toThrow(TypeError);
    expect(() => resolveOptions({ authenticate, idleTimeout: 45_000, touchInterval: 60_000 })).toThrow(
      /options\.touchInterval/,
    );
    expect(() => resolveOptions({ authenticate, touchInterval: 31 * 60_000 })).toThrow(/options\.touchInterval/);
  });

  it("reads SOLO_TOUCH_INTERVAL and names it when it is not shorter than the idle timeout", () => {
    expect(readEnv({ SOLO_IDLE_TIMEOUT: "45s", SOLO_TOUCH_INTERVAL: "10s" }).options.touchInterval).toBe(10_000);
    for (const env of [
      { SOLO_IDLE_TIMEOUT: "45s", SOLO_TOUCH_INTERVAL: "45s" },
      { SOLO_IDLE_TIMEOUT: "45s", SOLO_TOUCH_INTERVAL: "1m" },
      { SOLO_TOUCH_INTERVAL: "31m" }, // the default idle timeout is 30 minutes
    ]) {
      expect(() => readEnv(env), JSON.stringify(env)).toThrow(TypeError);
      expect(() => readEnv(env), JSON.stringify(env)).toThrow("SOLO_TOUCH_INTERVAL");
    }
  });

  it("reads a Redis Cluster or Sentinel deployment, and what session writes wait for", () => {
    const cluster = readEnv({ SOLO_STORE: "redis", REDIS_CLUSTER_NODES: "10.0.0.1:7000, [::1]:7001" }).options;
    expect(cluster.redis).toEqual({
      cluster: [
        { host: "10.0.0.1", port: 7000 },
        { host: "::1", port: 7001 },
      ],
    });
    // Cluster and Sentinel wait for one replica by default.
    expect(resolveOptions({ ...cluster, authenticate }).redis.replicas).toEqual({ wait: 1, timeout: 500 });
    const sentinel = readEnv({
      SOLO_STORE: "redis",
      REDIS_SENTINELS: "s1:26379,s2:26379",
      REDIS_SENTINEL_NAME: "solo",
      REDIS_REPLICAS_WAIT: "2",
      REDIS_REPLICAS_TIMEOUT: "250ms",
    }).options;
    expect(sentinel.redis).toEqual({
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      name: "solo",
      replicas: { wait: 2, timeout: 250 },
    });
    expect(resolveOptions({ ...sentinel, authenticate }).redis.target).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      name: "solo",
    });
    const noWait = readEnv({ SOLO_STORE: "redis", REDIS_CLUSTER_NODES: "a:1", REDIS_REPLICAS_WAIT: "0" }).options;
    expect(resolveOptions({ ...noWait, authenticate }).redis.replicas).toBeNull();
  });

  it("refuses a wrong Redis deployment with a TypeError naming the variable", () => {
    for (const [env, name] of [
      [{ REDIS_URL: "redis://a:1", REDIS_CLUSTER_NODES: "a:1" }, "REDIS_CLUSTER_NODES"],
      [{ REDIS_CLUSTER_NODES: "a:1", REDIS_SENTINELS: "b:2" }, "REDIS_SENTINELS"],
      [{ REDIS_SENTINELS: "b:2" }, "REDIS_SENTINEL_NAME"],
      [{ REDIS_SENTINEL_NAME: "solo" }, "REDIS_SENTINEL_NAME"],
      [{ REDIS_CLUSTER_NODES: "a" }, "REDIS_CLUSTER_NODES"],
      [{ REDIS_CLUSTER_NODES: "a:0" }, "REDIS_CLUSTER_NODES"],
      [{ REDIS_CLUSTER_NODES: "," }, "REDIS_CLUSTER_NODES"],
      [{ REDIS_CLUSTER_NODES: "a:1", REDIS_REPLICAS_WAIT: "x" }, "REDIS_REPLICAS_WAIT"],
      [{ REDIS_CLUSTER_NODES: "a:1", REDIS_REPLICAS_TIMEOUT: "soon" }, "REDIS_REPLICAS_TIMEOUT"],
    ] as const) {
      expect(() => readEnv(env), JSON.stringify(env)).toThrow(TypeError);
      expect(() => readEnv(env), JSON.stringify(env)).toThrow(name);
    }
  });
});
