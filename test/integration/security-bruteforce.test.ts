import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { type Credentials, createSoloServer, RATE_LIMIT_DEFAULTS, type SoloServerOptions } from "../../server/index.js";
import { call, login } from "../support/client.js";
import type { TestRedis } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import type { TestServer, TestServerOptions } from "../support/server.js";

// Brute force: failed logins are counted per client address and per login name; over a limit
// the login is refused with 429 rate_limited and Retry-After, without checking the password,
// so the attacked user's live session is never touched.

const resources = testResources();
const { socketFor } = resources;

/** A test server behind a trusted proxy: X-Forwarded-For gives each attempt its address. */
function server(options: TestServerOptions = {}): Promise<TestServer> {
  return resources.server({ trustProxy: true, ...options });
}

let ipCounter = 0;
/** A fresh client address, as a trusted proxy would report it. */
const nextIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;

async function attempt(url: string, username: unknown, password: string, ip: string = nextIp()) {
  return post(url, { username, password }, ip);
}

/** A login with this JSON body from `ip`. */
async function post(url: string, body: Record<string, unknown>, ip: string = nextIp()) {
  const res = await call(url, "/auth/login", null, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify(body),
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
    const socket = await socketFor(srv.url, alice.token);
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

describe("login names that are not strings", () => {
  /** An authenticate written like the README's example, coercing the name; counts its calls. */
  function countingAuthenticate() {
    const seen: Credentials[] = [];
    const authenticate = (credentials: Credentials) => {
      seen.push(credentials);
      return String(credentials.username) === "alice" && credentials.password === "right" ? { userId: "alice" } : null;
    };
    return { authenticate, seen };
  }

  const MALFORMED_BODIES: Record<string, unknown>[] = [
    { username: ["alice"], password: "right" },
    { username: { "0": "alice" }, password: "right" },
    { username: { toString: "alice" }, password: "right" },
    { username: 1, password: "right" },
    { username: true, password: "right" },
    { username: null, password: "right" },
    { email: ["alice"], password: "right" },
    { username: "alice", email: ["alice"], password: "right" },
  ];

  it("are refused with 400 invalid_request before authenticate and before the limiter, so a locked account stays locked", async () => {
    const { authenticate, seen } = countingAuthenticate();
    const srv = await server({
      authenticate,
      rateLimit: { loginPerUser: { points: 3, duration: 60_000, block: 120_000 }, loginPerIp: false },
    });
    for (let i = 0; i < 3; i++)
      expect((await attempt(srv.url, "alice", `guess-${i}`)).error).toBe("invalid_credentials");
    expect((await attempt(srv.url, "alice", "right")).error).toBe("rate_limited");
    expect(seen).toHaveLength(3);

    for (const body of MALFORMED_BODIES) {
      const res = await post(srv.url, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.error, JSON.stringify(body)).toBe("invalid_request");
    }
    expect(seen).toHaveLength(3); // authenticate never saw them
    expect(await srv.solo.store.listLive("alice")).toEqual([]);
    // Still locked, and not by the malformed bodies (they were not counted against other names either).
    expect((await attempt(srv.url, "alice", "right")).error).toBe("rate_limited");
    expect((await attempt(srv.url, "bob", "x")).error).toBe("invalid_credentials");
  });

  it("are refused even with every rate limit off", async () => {
    const { authenticate, seen } = countingAuthenticate();
    const srv = await server({ authenticate, rateLimit: false });
    for (const body of MALFORMED_BODIES)
      expect((await post(srv.url, body)).error, JSON.stringify(body)).toBe("invalid_request");
    expect(seen).toHaveLength(0);
    expect((await attempt(srv.url, "alice", "right")).status).toBe(200);
  });

  it("a custom loginKey decides what a name is: a string counts, null does not, false refuses", async () => {
    const seen: Credentials[] = [];
    const srv = await server({
      authenticate: (credentials) => {
        seen.push(credentials);
        return credentials.login === "alice" && credentials.password === "right" ? { userId: "alice" } : null;
      },
      rateLimit: {
        loginPerUser: { points: 2, duration: 60_000 },
        loginPerIp: false,
        loginKey: (c) => (typeof c.login === "string" ? c.login : c.login === undefined ? null : false),
      },
    });
    for (let i = 0; i < 2; i++)
      expect((await post(srv.url, { login: "alice", password: "x" })).error).toBe("invalid_credentials");
    expect((await post(srv.url, { login: "ALICE ", password: "right" })).error).toBe("rate_limited");
    expect((await post(srv.url, { login: ["alice"], password: "right" })).error).toBe("invalid_request");
    // `username` means nothing to this app's key: the default's rule does not apply.
    expect((await post(srv.url, { username: ["x"], password: "x" })).error).toBe("invalid_credentials");
    expect(seen).toHaveLength(3);
  });
});

describe("successful logins per user and per address", () => {
  /** Any name with the password "demo" signs in, without scrypt: the test counts requests, not hashing. */
  const authenticate = (c: Credentials) =>
    typeof c.username === "string" && c.password === "demo" ? { userId: c.username } : null;

  it("has documented defaults", () => {
    expect(RATE_LIMIT_DEFAULTS.successPerUser).toEqual({ points: 20, duration: 60_000 });
    expect(RATE_LIMIT_DEFAULTS.successPerIp).toEqual({ points: 300, duration: 60_000 });
  });

  it("a flood of one account's logins gets 429 rate_limited with Retry-After past the limit, and changes no session", async () => {
    const srv = await server({ authenticate, rateLimit: { successPerUser: { points: 10, duration: 60_000 } } });
    const results = [];
    for (let i = 0; i < 100; i++) results.push(await attempt(srv.url, "alice", "demo"));
    expect(results.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(200));
    const refused = results.slice(10);
    expect(refused.every((r) => r.status === 429 && r.error === "rate_limited")).toBe(true);
    for (const r of refused) {
      const retryAfter = Number(r.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.body.retryAfter).toBe(retryAfter);
    }
    // The tenth login's session is the live one: the refused logins ended nothing.
    const last = results[9]?.body as unknown as { session: { id: string }; token: string };
    expect((await srv.solo.store.listLive("alice")).map((s) => s.id)).toEqual([last.session.id]);
    expect((await call(srv.url, "/auth/session", last.token)).status).toBe(200);
    // Ten sessions were made (one live, nine replaced), not a hundred.
    const audit = await srv.solo.store.queryAudit({ userId: "alice", limit: 500 });
    expect(audit.filter((e) => e.kind === "login")).toHaveLength(10);
    // Other accounts sign in.
    expect((await attempt(srv.url, "bob", "demo")).status).toBe(200);
  });

  it("counts after the credentials and before the session: a refused login leaves the live session and its socket alone", async () => {
    const srv = await server({
      authenticate,
      rateLimit: { successPerUser: { points: 1, duration: 60_000 }, loginPerUser: false },
    });
    const first = await attempt(srv.url, "alice", "demo");
    expect(first.status).toBe(200);
    const live = first.body as unknown as { session: { id: string }; token: string };
    const socket = await socketFor(srv.url, live.token);
    let revoked = false;
    socket.on("session:revoked", () => {
      revoked = true;
    });
    expect((await attempt(srv.url, "alice", "wrong")).error).toBe("invalid_credentials"); // not a success
    expect((await attempt(srv.url, "alice", "demo")).error).toBe("rate_limited");
    expect((await post(srv.url, { username: "alice", password: "demo", takeover: true })).error).toBe("rate_limited");
    expect((await srv.solo.store.get(live.session.id))?.ended).toBeNull();
    expect((await call(srv.url, "/auth/session", live.token)).status).toBe(200);
    expect(socket.connected).toBe(true);
    expect(revoked).toBe(false);
  });

  it("limits one address signing in many accounts; other addresses are not affected", async () => {
    const srv = await server({ authenticate, rateLimit: { successPerIp: { points: 5, duration: 60_000 } } });
    const office = "192.0.2.44";
    for (let i = 0; i < 5; i++) expect((await attempt(srv.url, `user${i}`, "demo", office)).status).toBe(200);
    const limited = await attempt(srv.url, "user5", "demo", office);
    expect(limited.error).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await attempt(srv.url, "user5", "demo", "192.0.2.45")).status).toBe(200);
  });

  it("turned off, lets a flood through, and the store still keeps at most 50 replaced sessions of the account", async () => {
    const srv = await server({ authenticate, rateLimit: { successPerUser: false } });
    const logins = [];
    for (let i = 0; i < 60; i++) {
      const res = await attempt(srv.url, "alice", "demo");
      expect(res.status).toBe(200);
      logins.push(res.body as unknown as { session: { id: string }; token: string });
    }
    const ids = logins.map((l) => l.session.id);
    // 59 were replaced: the newest 50 tombstones are kept, the 9 oldest are gone.
    for (const id of ids.slice(0, 9)) expect(await srv.solo.store.get(id), id).toBeNull();
    for (const id of ids.slice(9, 59)) expect((await srv.solo.store.get(id))?.ended?.reason, id).toBe("replaced");
    expect((await srv.solo.store.get(ids[59] as string))?.ended).toBeNull();
    // The oldest devices' tokens are now unknown sessions; the newer ones still learn who replaced them.
    expect(((await call(srv.url, "/auth/session", logins[0]?.token as string)).body as ErrorBody).error).toBe(
      "invalid_token",
    );
    expect(((await call(srv.url, "/auth/session", logins[9]?.token as string)).body as ErrorBody).error).toBe(
      "session_replaced",
    );
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

    const direct = await resources.server({
      rateLimit: { loginPerIp: { points: 2, duration: 60_000 }, loginPerUser: false },
    });
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
      { successPerUser: { points: 0, duration: 60_000 } },
      { successPerIp: true },
      { loginKey: "username" },
      { redis: {} },
    ]) {
      expect(() =>
        createSoloServer({ authenticate, store: "memory", rateLimit } as unknown as SoloServerOptions),
      ).toThrow(/options\.rateLimit/);
    }
  });
});

describe("login rate limiting shared through Redis", () => {
  /** A connection of the limiter's own (as an app would pass it), failing fast while Redis is down. */
  const client = (redis: TestRedis) => resources.redisClient(redis, { maxRetriesPerRequest: 1 });

  it("counts failures on every node together, and keeps login names out of the keys", async () => {
    const redis = await resources.redis();
    const rateLimit = { loginPerUser: { points: 5, duration: 60_000 }, loginPerIp: false } as const;
    const a = await server({ rateLimit: { ...rateLimit, redis: await client(redis) } });
    const b = await server({ rateLimit: { ...rateLimit, redis: await client(redis) } });
    for (let i = 0; i < 3; i++) expect((await attempt(a.url, "alice", "x")).error).toBe("invalid_credentials");
    for (let i = 0; i < 2; i++) expect((await attempt(b.url, "alice", "x")).error).toBe("invalid_credentials");
    expect((await attempt(a.url, "alice", "x")).error).toBe("rate_limited");
    expect((await attempt(b.url, "alice", "demo")).error).toBe("rate_limited");
    expect((await attempt(b.url, "bob", "demo")).status).toBe(200);

    const keys = await (await client(redis)).keys("solo:rl:*");
    expect(keys.some((k) => k.startsWith("solo:rl:login-user:"))).toBe(true);
    expect(keys.join(" ")).not.toMatch(/alice/i);
  });

  it("keeps limiting in memory while Redis is down, without a 5xx", async () => {
    const redis = await resources.redis();
    const srv = await server({
      rateLimit: { loginPerUser: { points: 3, duration: 60_000 }, loginPerIp: false, redis: await client(redis) },
    });
    expect((await attempt(srv.url, "carol", "x")).error).toBe("invalid_credentials");
    await redis.stop();
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
