import { type ChildProcess, spawn } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSoloServer, type SoloServerOptions } from "../../server/index.js";
import type { ErrorBody } from "../../server/protocol.js";
import { type ClientSocket, call, connect, login } from "../support/client.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Brute force: failed logins are counted per client address and per login name; over a limit
// the login is refused with 429 rate_limited and Retry-After, without checking the password,
// so the attacked user's live session is never touched.

const servers: TestServer[] = [];
const sockets: ClientSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const s of servers.splice(0)) await s.close({ removeData: true });
});

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ trustProxy: true, ...options });
  servers.push(s);
  return s;
}

let ipCounter = 0;
/** A fresh client address, as a trusted proxy would report it. */
const nextIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;

async function attempt(url: string, username: string, password: string, ip: string = nextIp()) {
  const res = await call(url, "/auth/login", null, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify({ username, password }),
  });
  return {
    status: res.status,
    error: (res.body as ErrorBody | null)?.error,
    body: res.body as ErrorBody,
    headers: res.headers,
  };
}

describe("login rate limiting per login name", () => {
  it("answers 429 rate_limited with Retry-After after the limit, even from fresh addresses, and leaves the live session alone", async () => {
    const srv = await server({
      rateLimit: { loginPerUser: { points: 5, duration: 60_000, block: 120_000 }, loginPerIp: false },
    });
    const alice = await login(srv.url);
    const socket = await connect(srv.url, alice.token);
    sockets.push(socket);
    let revoked = false;
    socket.on("session:revoked", () => {
      revoked = true;
    });

    for (let i = 0; i < 5; i++)
      expect((await attempt(srv.url, "alice", `guess-${i}`)).error).toBe("invalid_credentials");
    for (let i = 0; i < 10; i++) {
      const limited = await attempt(srv.url, "alice", `guess-more-${i}`);
      expect(limited.status).toBe(429);
      expect(limited.error).toBe("rate_limited");
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(60);
      expect(retryAfter).toBeLessThanOrEqual(120);
      expect(limited.body.retryAfter).toBe(retryAfter);
    }
    // The right password is refused too while the name is blocked: otherwise guessing goes on.
    expect((await attempt(srv.url, "alice", "demo")).error).toBe("rate_limited");
    // Spelling the name differently does not get around it.
    expect((await attempt(srv.url, " ALICE ", "guess")).error).toBe("rate_limited");

    // Alice's live session and its socket are untouched.
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(200);
    expect(socket.connected).toBe(true);
    expect(revoked).toBe(false);
    // Other users are not affected.
    expect((await attempt(srv.url, "bob", "demo")).status).toBe(200);
  });

  it("counts parallel guesses before checking them: exactly the limit get through", async () => {
    const srv = await server({ rateLimit: { loginPerUser: { points: 5, duration: 60_000 }, loginPerIp: false } });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(srv.url, "carol", `p${i}`)));
    expect(results.filter((r) => r.error === "invalid_credentials")).toHaveLength(5);
    expect(results.filter((r) => r.error === "rate_limited")).toHaveLength(25);
  });

  it("forgets a name's failures after a successful login", async () => {
    const srv = await server({ rateLimit: { loginPerUser: { points: 5, duration: 60_000 }, loginPerIp: false } });
    for (let i = 0; i < 4; i++) expect((await attempt(srv.url, "bob", "nope")).error).toBe("invalid_credentials");
    expect((await attempt(srv.url, "bob", "demo")).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await attempt(srv.url, "bob", "nope")).error).toBe("invalid_credentials");
    expect((await attempt(srv.url, "bob", "nope")).error).toBe("rate_limited");
  });
});

describe("login rate limiting per address", () => {
  it("limits one address guessing across many names; other addresses are not affected", async () => {
    const srv = await server({ rateLimit: { loginPerIp: { points: 8, duration: 60_000 }, loginPerUser: false } });
    const attacker = "203.0.113.66";
    for (let i = 0; i < 8; i++) {
      expect((await attempt(srv.url, `user${i}`, "password1", attacker)).error).toBe("invalid_credentials");
    }
    const limited = await attempt(srv.url, "user9", "password1", attacker);
    expect(limited.error).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await attempt(srv.url, "alice", "demo", attacker)).error).toBe("rate_limited");
    expect((await attempt(srv.url, "alice", "demo", "203.0.113.67")).status).toBe(200);
  });

  it("does not count successful logins against the address (an office behind one NAT)", async () => {
    const srv = await server({ rateLimit: { loginPerIp: { points: 3, duration: 60_000 }, loginPerUser: false } });
    const office = "192.0.2.10";
    for (let i = 0; i < 10; i++) expect((await attempt(srv.url, "alice", "demo", office)).status).toBe(200);
    expect((await attempt(srv.url, "bob", "demo", office)).status).toBe(200);
  });

  it("counts an IPv6 client by its /64, and does not trust X-Forwarded-For without trustProxy", async () => {
    const srv = await server({ rateLimit: { loginPerIp: { points: 2, duration: 60_000 }, loginPerUser: false } });
    expect((await attempt(srv.url, "x", "y", "2001:db8:1:2::1")).error).toBe("invalid_credentials");
    expect((await attempt(srv.url, "x", "y", "2001:db8:1:2:ffff::9")).error).toBe("invalid_credentials");
    expect((await attempt(srv.url, "x", "y", "2001:0db8:0001:0002:abcd::1")).error).toBe("rate_limited");
    expect((await attempt(srv.url, "x", "y", "2001:db8:1:3::1")).error).toBe("invalid_credentials");

    const direct = await startTestServer({
      rateLimit: { loginPerIp: { points: 2, duration: 60_000 }, loginPerUser: false },
    });
    servers.push(direct);
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await attempt(direct.url, "x", "y", `203.0.113.${i}`)).error);
    expect(results).toEqual(["invalid_credentials", "invalid_credentials", "rate_limited"]);
  });
});

describe("rate limit options", () => {
  it("are checked when the server is created, with a TypeError naming the option", async () => {
    const authenticate = () => null;
    for (const rateLimit of [
      { loginPerIp: { points: 0, duration: 1000 } },
      { loginPerUser: { points: 1.5, duration: 1000 } },
      { handshakePerIp: { points: 5, duration: -1 } },
      { handshakePerSession: { points: 5, duration: 1000, block: Number.NaN } },
      { loginKey: "username" },
      { redis: {} },
    ]) {
      await expect(
        createSoloServer({ authenticate, store: "memory", rateLimit } as unknown as SoloServerOptions),
      ).rejects.toThrow(/options\.rateLimit/);
    }
  });
});

describe("login rate limiting shared through Redis", () => {
  let redis: ChildProcess;
  let port: number;
  const clients: Redis[] = [];

  beforeAll(async () => {
    port = await freePort();
    redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    for (let i = 0; ; i++) {
      const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
      probe.on("error", () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        break;
      } catch (error) {
        probe.disconnect();
        if (i > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    if (redis.exitCode === null) {
      const exited = new Promise((resolve) => redis.once("exit", resolve));
      redis.kill("SIGTERM");
      await exited;
    }
  });

  function client(): Redis {
    const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 1 });
    c.on("error", () => {}); // expected once the test stops Redis
    clients.push(c);
    return c;
  }

  it("counts failures on every node together, and keeps login names out of the keys", async () => {
    const rateLimit = { loginPerUser: { points: 5, duration: 60_000 }, loginPerIp: false } as const;
    const a = await server({ rateLimit: { ...rateLimit, redis: client() } });
    const b = await server({ rateLimit: { ...rateLimit, redis: client() } });
    for (let i = 0; i < 3; i++) expect((await attempt(a.url, "alice", "x")).error).toBe("invalid_credentials");
    for (let i = 0; i < 2; i++) expect((await attempt(b.url, "alice", "x")).error).toBe("invalid_credentials");
    expect((await attempt(a.url, "alice", "x")).error).toBe("rate_limited");
    expect((await attempt(b.url, "alice", "demo")).error).toBe("rate_limited");
    expect((await attempt(b.url, "bob", "demo")).status).toBe(200);

    const keys = await client().keys("solo:rl:*");
    expect(keys.some((k) => k.startsWith("solo:rl:login-user:"))).toBe(true);
    expect(keys.join(" ")).not.toMatch(/alice/i);
  });

  it("keeps limiting in memory while Redis is down, without a 5xx", async () => {
    const c = client();
    const srv = await server({
      rateLimit: { loginPerUser: { points: 3, duration: 60_000 }, loginPerIp: false, redis: c },
    });
    expect((await attempt(srv.url, "carol", "x")).error).toBe("invalid_credentials");
    const exited = new Promise((resolve) => redis.once("exit", resolve));
    redis.kill("SIGTERM");
    await exited;
    const outcomes: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await attempt(srv.url, "carol", "x");
      expect(res.status).toBeLessThan(500);
      outcomes.push(res.error);
    }
    expect(outcomes.slice(0, 3)).toEqual(["invalid_credentials", "invalid_credentials", "invalid_credentials"]);
    expect(outcomes.slice(3)).toEqual(["rate_limited", "rate_limited", "rate_limited"]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const p = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(p));
    });
  });
}
