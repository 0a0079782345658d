import { describe, expect, it } from "vitest";
import { readEnv } from "../../server/env.js";
import { parseDuration } from "../../server/options.js";

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

  it("refuses a wrong value with a TypeError naming the variable", () => {
    const cases: Record<string, Record<string, string>> = {
      PORT: { PORT: "http" },
      SOLO_STORE: { SOLO_STORE: "postgres" },
      SOLO_POLICY: { SOLO_POLICY: "max:0" },
      SOLO_IDLE_TIMEOUT: { SOLO_IDLE_TIMEOUT: "soon" },
      SOLO_MAX_AGE: { SOLO_MAX_AGE: "-1h" },
      SOLO_INTROSPECT_SECRET: { SOLO_INTROSPECT_SECRET: "short" },
      SOLO_PUBLIC_ORIGIN: { SOLO_PUBLIC_ORIGIN: "https://app.example.com/login" },
      SOLO_TRANSPORTS: { SOLO_TRANSPORTS: "websocket,jsonp" },
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
