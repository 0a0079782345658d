import { describe, expect, it, vi } from "vitest";
import { Metrics } from "../../server/observability/metrics.js";
import { login, nextRevocation } from "../support/client.js";
import { redisUp, sample, scrape } from "../support/ops.js";
import { anyUser, connectionIds, holdConnectionDown, uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";

const { server, standalone, socketFor, redis, redisClient } = testResources();

const KEY_SERIES = [
  "solo_sessions_live",
  "solo_sockets_connected",
  'solo_logins_total{outcome="success"}',
  'solo_logins_total{outcome="invalid_credentials"}',
  'solo_logins_total{outcome="refused"}',
  'solo_logins_total{outcome="rate_limited"}',
  'solo_logins_total{outcome="error"}',
  'solo_kicks_total{reason="replaced"}',
  'solo_kicks_total{reason="revoked"}',
  'solo_revocation_notices_total{status="delivered"}',
  'solo_revocation_notices_total{status="acknowledged"}',
  "solo_kick_delivery_seconds_count",
  'solo_kick_delivery_seconds_bucket{le="+Inf"}',
  "process_cpu_user_seconds_total",
  "nodejs_eventloop_lag_seconds",
  "process_resident_memory_bytes",
];

describe("/metrics", () => {
  it("exposes the solo_ series and the default process metrics", async () => {
    const srv = await standalone();
    const samples = await scrape(srv.url);
    for (const series of KEY_SERIES) sample(samples, series);
    expect(sample(samples, "solo_sessions_live")).toBe(0);
    expect(sample(samples, 'solo_kicks_total{reason="replaced"}')).toBe(0);
    // No Redis here, so no solo_redis_up.
    expect([...samples.keys()].some((k) => k.startsWith("solo_redis_up"))).toBe(false);
  });

  it("moves when a kick happens: logins, live sessions, sockets, kicks, notices, delivery latency, store timings", async () => {
    const srv = await standalone();
    const before = await scrape(srv.url);

    const first = await login(srv.url);
    const socket = await socketFor(srv.url, first.token);
    const during = await scrape(srv.url);
    expect(sample(during, "solo_sessions_live")).toBe(1);
    expect(sample(during, "solo_sockets_connected")).toBe(1);

    const revoked = nextRevocation(socket);
    await login(srv.url);
    await revoked;
    const bad = await fetch(`${srv.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "wrong" }),
    });
    expect(bad.status).toBe(401);

    await vi.waitFor(async () =>
      expect(sample(await scrape(srv.url), 'solo_revocation_notices_total{status="acknowledged"}')).toBe(1),
    );
    const after = await scrape(srv.url);
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('solo_logins_total{outcome="success"}')).toBe(2);
    expect(delta('solo_logins_total{outcome="invalid_credentials"}')).toBe(1);
    expect(delta('solo_kicks_total{reason="replaced"}')).toBe(1);
    expect(delta('solo_kicks_total{reason="revoked"}')).toBe(0);
    expect(delta('solo_revocation_notices_total{status="delivered"}')).toBe(1);
    expect(delta("solo_kick_delivery_seconds_count")).toBe(1);
    const seconds = sample(after, "solo_kick_delivery_seconds_sum");
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(5);
    expect(sample(after, "solo_sessions_live")).toBe(1);
    await vi.waitFor(async () => expect(sample(await scrape(srv.url), "solo_sockets_connected")).toBe(0));
    expect(sample(after, 'solo_store_operation_seconds_count{op="claim"}')).toBe(2);
    // "delivered" is written with the kick's audit event (the socket was here); only the ack updates it.
    expect(sample(after, 'solo_store_operation_seconds_count{op="updateDelivery"}')).toBe(1);
    expect(sample(after, 'solo_store_operation_seconds_count{op="appendAudit"}')).toBe(3);
  });

  it("counts an admin revoke under reason revoked and requests refused by code", async () => {
    const srv = await standalone();
    const alice = await login(srv.url);
    expect(await srv.solo.revokeSession(alice.session.id)).toBe(true);
    const refused = await fetch(`${srv.url}/api/notes`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(refused.status).toBe(401);
    const samples = await scrape(srv.url);
    expect(sample(samples, 'solo_kicks_total{reason="revoked"}')).toBe(1);
    expect(sample(samples, 'solo_requests_rejected_total{code="session_revoked"}')).toBe(1);
  });
});

describe("solo_redis_up", () => {
  it("follows the real connections: 0 while redis-server is killed (or any one connection is down), 1 once back", async () => {
    const backend = await redis();
    const keyPrefix = uniquePrefix("up");
    const node = await server({ store: "redis", redis: { url: backend.url, keyPrefix }, authenticate: anyUser });
    expect(await redisUp(node)).toBe(1);

    // One needed connection down (the ends reader) is enough for 0.
    const admin = await redisClient(backend);
    const [reader] = await connectionIds(admin, `${keyPrefix}:io:ends`);
    const release = await holdConnectionDown(admin, reader as string);
    await vi.waitFor(async () => expect(await redisUp(node)).toBe(0), { timeout: 5_000 });
    await release();
    await vi.waitFor(async () => expect(await redisUp(node)).toBe(1), { timeout: 10_000 });

    await backend.stop({ crash: true });
    await vi.waitFor(async () => expect(await redisUp(node)).toBe(0), { timeout: 5_000 });
    await backend.start();
    await vi.waitFor(async () => expect(await redisUp(node)).toBe(1), { timeout: 10_000 });
  }, 30_000);

  it("keeps several servers' series apart in one process", async () => {
    const a = new Metrics({ sessionsLive: async () => 1, socketsConnected: () => 0, onError: () => {} });
    const b = new Metrics({ sessionsLive: async () => 7, socketsConnected: () => 0, onError: () => {} });
    a.login("success");
    expect(await a.render()).toMatch(/^solo_logins_total\{outcome="success"\} 1$/m);
    expect(await b.render()).toMatch(/^solo_logins_total\{outcome="success"\} 0$/m);
    expect(await b.render()).toMatch(/^solo_sessions_live 7$/m);
  });
});
