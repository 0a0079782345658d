import { pino } from "pino";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { DisputeResponse, ErrorBody, RevocationNotice } from "../../protocol/index.js";
import { logId } from "../../server/observability/logger.js";
import type { DisputeEvent } from "../../server/options/types.js";
import { call, handshakeError, login, nextRevocation, UA } from "../support/client.js";
import { MINUTE, manualClock, SECOND } from "../support/clock.js";
import { adminToken, auditTrail, connectAdmin } from "../support/ops.js";
import { rawRequest } from "../support/raw-http.js";
import { type TestRedis, uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";
import {
  b64,
  forgeKey,
  goodClaims,
  goodHeader,
  serverKeys,
  signCompact,
  strangerKey,
  unsecured,
} from "../support/tokens.js";

// "This wasn't me": the replaced device disputes the sign-in that replaced it (POST /auth/dispute).

const { server, socketFor, track, nodes } = testResources();
const EVIL = "https://evil.example";

/** POST /auth/dispute as the page of the server's own origin would send it. */
function dispute(srv: TestServer, capability: unknown, headers: Record<string, string> = {}) {
  return call(srv.url, "/auth/dispute", null, {
    method: "POST",
    headers: { "content-type": "application/json", origin: srv.url, ...headers },
    body: JSON.stringify({ capability }),
  });
}

/** Alice signs in on her laptop (with a live socket), then someone signs in as her elsewhere. */
async function takenOver(srv: TestServer) {
  const laptop = await login(srv.url, { username: "alice", password: "demo", device: { name: "Alice's laptop" } });
  const socket = await socketFor(srv.url, laptop.token);
  const told = nextRevocation(socket);
  const intruder = await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
  const notice = await told;
  return { laptop, intruder, notice, capability: notice.dispute as string };
}

/** `solo_disputes_total{outcome}` of a server. */
async function disputes(srv: TestServer, outcome: string): Promise<number> {
  const match = new RegExp(`^solo_disputes_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(
    await srv.solo.registry.metrics(),
  );
  expect(match, outcome).not.toBeNull();
  return Number(match?.[1]);
}

async function isLive(srv: TestServer, token: string): Promise<boolean> {
  return (await call(srv.url, "/auth/session", token)).status === 200;
}

describe("the dispute capability", () => {
  it("comes with a replacement in the pushed notice, the 401 and the refused handshake; never with another end", async () => {
    const srv = await server();
    const { laptop, intruder, notice, capability } = await takenOver(srv);
    expect(notice).toMatchObject({ reason: "replaced", sessionId: laptop.session.id });
    expect(capability).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const header = JSON.parse(Buffer.from(capability.split(".")[0] as string, "base64url").toString());
    expect(header.typ).toBe("dispute+jwt");
    const claims = JSON.parse(Buffer.from(capability.split(".")[1] as string, "base64url").toString());
    expect(claims).toMatchObject({ sub: "alice", sid: laptop.session.id, by: intruder.session.id });

    const refused = await call(srv.url, "/auth/session", laptop.token);
    expect((refused.body as ErrorBody).error).toBe("session_replaced");
    expect((refused.body as ErrorBody).dispute).toBe(capability);
    const handshake = await handshakeError(srv.url, laptop.token);
    expect(handshake.message).toBe("session_replaced");
    expect(handshake.data?.dispute).toBe(capability);

    // A logout, an own-device end and an admin's revoke carry none.
    await call(srv.url, "/auth/logout", intruder.token, { method: "POST" });
    const loggedOut = await call(srv.url, "/auth/session", intruder.token);
    expect((loggedOut.body as ErrorBody).error).toBe("session_revoked");
    expect((loggedOut.body as ErrorBody).dispute).toBeUndefined();
    expect((await handshakeError(srv.url, intruder.token)).data?.dispute).toBeUndefined();
  });

  it("is not a session token, and a session token is not a capability (typ and audience)", async () => {
    const srv = await server();
    const { laptop, intruder, capability } = await takenOver(srv);
    for (const path of ["/auth/session", "/auth/sessions", "/api/notes"]) {
      const res = await call(srv.url, path, capability);
      expect(res.status, path).toBe(401);
      expect((res.body as ErrorBody).error, path).toBe("invalid_token");
    }
    expect((await handshakeError(srv.url, capability)).message).toBe("invalid_token");
    const asCookie = await call(srv.url, "/auth/session", null, { headers: { cookie: `solo_session=${capability}` } });
    expect((asCookie.body as ErrorBody).error).toBe("invalid_token");

    for (const token of [intruder.token, laptop.token]) {
      const res = await dispute(srv, token);
      expect(res.status).toBe(401);
      expect((res.body as ErrorBody).error).toBe("invalid_token");
    }
    expect(await isLive(srv, intruder.token)).toBe(true);
    // Still unspent: the genuine capability works afterwards.
    expect((await dispute(srv, capability)).status).toBe(200);
  });
});

describe("POST /auth/dispute", () => {
  it("ends the session that took over and every session of the user, audits disputed with both devices, calls onDispute", async () => {
    const events: DisputeEvent[] = [];
    const srv = await server({
      policy: { maxSessions: 2 },
      onDispute: (event) => void events.push(event),
    });
    // Alice's laptop and phone; the intruder's sign-in replaces the laptop (least recently active).
    const laptop = await login(srv.url, { username: "alice", password: "demo", device: { name: "Alice's laptop" } });
    const phone = await login(srv.url, { username: "alice", password: "demo", device: { name: "Alice's phone" } });
    await call(srv.url, "/auth/session", phone.token);
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    const laptopSocket = await socketFor(srv.url, laptop.token);
    const told = nextRevocation(laptopSocket);
    const admin = await adminToken(srv.url);
    const feed = track(await connectAdmin(srv.url, admin));
    const seen: string[] = [];
    feed.on("admin:audit", (e) => void seen.push(e.kind));
    const intruder = await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
    const capability = (await told).dispute as string;
    const intruderSocket = await socketFor(srv.url, intruder.token);
    const intruderTold = nextRevocation(intruderSocket);

    const res = await dispute(srv, capability);
    expect(res.status).toBe(200);
    const body = res.body as DisputeResponse;
    expect(body.disputed.id).toBe(intruder.session.id);
    expect(body.disputed.device.browser).toBe("Firefox 132");
    expect(body.ended.map((s) => s.id).sort()).toEqual([intruder.session.id, phone.session.id].sort());

    const intruderNotice: RevocationNotice = await intruderTold;
    expect(intruderNotice.reason).toBe("revoked");
    expect(intruderNotice.dispute).toBeUndefined();
    for (const ended of [intruder, phone]) {
      const after = await call(srv.url, "/auth/session", ended.token);
      expect((after.body as ErrorBody).error).toBe("session_revoked");
      expect((after.body as ErrorBody).dispute).toBeUndefined();
    }
    expect(await isLive(srv, bob.token)).toBe(true);

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      userId: "alice",
      disputed: { id: intruder.session.id },
      by: { id: laptop.session.id, device: { name: "Alice's laptop" } },
    });
    expect(events[0]?.ended.map((s) => s.id).sort()).toEqual(body.ended.map((s) => s.id).sort());
    expect(events[0]?.req.headers.origin).toBe(srv.url);

    await vi.waitFor(async () => {
      const trail = await auditTrail(srv.url, admin, { user: "alice" });
      const disputed = trail.filter((e) => e.kind === "disputed");
      expect(disputed).toHaveLength(1);
      expect(disputed[0]).toMatchObject({
        sessionId: intruder.session.id,
        device: { browser: "Firefox 132" },
        by: { userId: "alice", sessionId: laptop.session.id, device: { name: "Alice's laptop" } },
      });
      const revoked = trail.filter((e) => e.kind === "revoked");
      expect(revoked.map((e) => e.sessionId).sort()).toEqual([intruder.session.id, phone.session.id].sort());
      for (const e of revoked) expect(e.by).toMatchObject({ userId: "alice", sessionId: laptop.session.id });
    });
    // Admins see it live.
    await vi.waitFor(() => expect(seen).toContain("disputed"));
    expect(await disputes(srv, "accepted")).toBe(1);
  });

  it('with dispute.ends "taker", ends only the session that took over', async () => {
    const srv = await server({ policy: { maxSessions: 2 }, dispute: { ends: "taker" } });
    const laptop = await login(srv.url, { username: "alice", password: "demo" });
    const phone = await login(srv.url, { username: "alice", password: "demo" });
    await call(srv.url, "/auth/session", phone.token);
    const told = nextRevocation(await socketFor(srv.url, laptop.token));
    const intruder = await login(srv.url, { username: "alice", password: "demo" });
    const res = await dispute(srv, (await told).dispute);
    expect(res.status).toBe(200);
    expect((res.body as DisputeResponse).ended.map((s) => s.id)).toEqual([intruder.session.id]);
    expect(await isLive(srv, phone.token)).toBe(true);
    expect(await isLive(srv, intruder.token)).toBe(false);
  });

  it("is single use: a replay, even a concurrent one, is refused with dispute_used and ends nothing", async () => {
    const srv = await server();
    const { capability } = await takenOver(srv);
    const answers = await Promise.all([dispute(srv, capability), dispute(srv, capability), dispute(srv, capability)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
    for (const a of answers.filter((a) => a.status === 409)) expect((a.body as ErrorBody).error).toBe("dispute_used");

    // Alice signs in again; the spent capability ends nothing of it.
    const again = await login(srv.url, { username: "alice", password: "demo" });
    const replay = await dispute(srv, capability);
    expect(replay.status).toBe(409);
    expect((replay.body as ErrorBody).error).toBe("dispute_used");
    expect(await isLive(srv, again.token)).toBe(true);
    expect(await disputes(srv, "accepted")).toBe(1);
    expect(await disputes(srv, "refused")).toBe(3);
  });

  it("refuses an expired capability with invalid_token; the 401 then carries none", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, dispute: { ttl: 2 * MINUTE } });
    const { laptop, intruder, capability } = await takenOver(srv);
    clock.advance(2 * MINUTE + 6 * SECOND); // past the window and the 5 s clock tolerance
    const res = await dispute(srv, capability);
    expect(res.status).toBe(401);
    expect((res.body as ErrorBody).error).toBe("invalid_token");
    expect(await isLive(srv, intruder.token)).toBe(true);
    const later = await call(srv.url, "/auth/session", laptop.token);
    expect((later.body as ErrorBody).error).toBe("session_replaced");
    expect((later.body as ErrorBody).dispute).toBeUndefined();
  });

  it("refuses forged, altered, foreign and mismatched capabilities with stable codes, ending nothing", async () => {
    const srv = await server();
    const { laptop, intruder, capability } = await takenOver(srv);
    const bobReplaced = await login(srv.url, { username: "bob", password: "demo" });
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    const key = forgeKey(serverKeys(srv.dataDir)[0] as Parameters<typeof forgeKey>[0]);
    const now = Date.now();
    const header = { ...goodHeader(key), typ: "dispute+jwt" };
    const claims = (over: Record<string, unknown>) => ({
      ...goodClaims(laptop.session, now, {}, { lifetime: 300 }),
      roles: undefined,
      aud: "solo-session/dispute",
      sid: laptop.session.id,
      by: intruder.session.id,
      jti: "forged-1",
      ...over,
    });
    const [h, p, s] = capability.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());

    const invalid: [string, string][] = [
      ["a stranger's key", signCompact(strangerKey(key.kid), header, claims({}))],
      ["alg none", unsecured({ alg: "none", typ: "dispute+jwt" }, claims({}))],
      ["an altered payload (bob's session as the taker)", `${h}.${b64({ ...payload, by: bob.session.id })}.${s}`],
      ["an altered payload (another user)", `${h}.${b64({ ...payload, sub: "bob" })}.${s}`],
      ["a session typ with the capability's claims", signCompact(key, goodHeader(key), claims({}))],
      ["the session audience", signCompact(key, header, claims({ aud: "solo-session" }))],
      ["another issuer", signCompact(key, header, claims({ iss: "evil" }))],
      ["no by", signCompact(key, header, claims({ by: undefined }))],
      ["by equal to sid", signCompact(key, header, claims({ by: laptop.session.id }))],
      ["a jku header", signCompact(key, { ...header, jku: `${EVIL}/jwks` }, claims({}))],
      ["junk", "not.a.capability"],
    ];
    for (const [name, forged] of invalid) {
      const res = await dispute(srv, forged);
      expect(res.status, name).toBe(401);
      expect((res.body as ErrorBody).error, name).toBe("invalid_token");
    }
    // Signed with the server's own key (as if it leaked), naming sessions that do not match.
    const mismatched: [string, Record<string, unknown>][] = [
      ["bob's live session as the taker", { by: bob.session.id }],
      ["bob's replaced session, taken by alice's intruder", { sub: "bob", sid: bobReplaced.session.id }],
      ["alice's session under bob's name", { sub: "bob" }],
      ["a live session as the replaced one", { sid: intruder.session.id, by: laptop.session.id }],
      ["an unknown session", { sid: "no-such-session" }],
    ];
    for (const [name, over] of mismatched) {
      const res = await dispute(srv, signCompact(key, header, claims(over)));
      expect(res.status, name).toBe(403);
      expect((res.body as ErrorBody).error, name).toBe("forbidden");
    }
    const bodies: [string, string, string, number, string][] = [
      ["not JSON", "application/json", "{", 400, "invalid_request"],
      ["a form", "application/x-www-form-urlencoded", `capability=${capability}`, 400, "invalid_request"],
      ["no capability", "application/json", "{}", 400, "invalid_request"],
      ["a number", "application/json", '{"capability":42}', 400, "invalid_request"],
      ["an array", "application/json", `[${JSON.stringify(capability)}]`, 400, "invalid_request"],
      ["too large", "application/json", JSON.stringify({ capability: "x".repeat(20_000) }), 413, "payload_too_large"],
    ];
    for (const [name, type, body, status, code] of bodies) {
      const res = await call(srv.url, "/auth/dispute", null, {
        method: "POST",
        headers: { "content-type": type, origin: srv.url },
        body,
      });
      expect(res.status, name).toBe(status);
      expect((res.body as ErrorBody).error, name).toBe(code);
    }
    for (const token of [intruder.token, bob.token]) expect(await isLive(srv, token)).toBe(true);
    // The genuine one was never spent by any of these.
    expect((await dispute(srv, capability)).status).toBe(200);
    expect(await isLive(srv, bob.token)).toBe(true);
  });

  it("refuses a foreign Origin (and a cross-site request without one) with origin_not_allowed, ending nothing", async () => {
    const srv = await server();
    const { intruder, capability } = await takenOver(srv);
    const body = JSON.stringify({ capability });
    const refusedHeaders: Record<string, string>[] = [
      { origin: EVIL },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of refusedHeaders) {
      const res = await rawRequest(srv.url, "/auth/dispute", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).error).toBe("origin_not_allowed");
    }
    expect(await isLive(srv, intruder.token)).toBe(true);
    expect((await dispute(srv, capability)).status).toBe(200);
    expect(await disputes(srv, "refused")).toBe(3);
  });

  it("is rate-limited per user; refused replays do not count, other users are not affected", async () => {
    const srv = await server({ rateLimit: { disputePerUser: { points: 2, duration: 15 * MINUTE } } });
    const first = await takenOver(srv);
    expect((await dispute(srv, first.capability)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await dispute(srv, first.capability)).status).toBe(409);
    const second = await takenOver(srv);
    expect((await dispute(srv, second.capability)).status).toBe(200);
    const third = await takenOver(srv);
    const limited = await dispute(srv, third.capability);
    expect(limited.status).toBe(429);
    expect((limited.body as ErrorBody).error).toBe("rate_limited");
    expect((limited.body as ErrorBody).retryAfter).toBeGreaterThan(0);
    expect(await isLive(srv, third.intruder.token)).toBe(true);
    // Bob's disputes are counted apart.
    const bobLaptop = await login(srv.url, { username: "bob", password: "demo" });
    const told = nextRevocation(await socketFor(srv.url, bobLaptop.token));
    await login(srv.url, { username: "bob", password: "demo" });
    expect((await dispute(srv, (await told).dispute)).status).toBe(200);
    expect(await disputes(srv, "rate_limited")).toBe(1);
  });

  it("the intruder, once disputed, gets nothing to dispute back with", async () => {
    const srv = await server();
    const { intruder, capability } = await takenOver(srv);
    const intruderTold = nextRevocation(await socketFor(srv.url, intruder.token));
    expect((await dispute(srv, capability)).status).toBe(200);
    expect((await intruderTold).dispute).toBeUndefined();
    expect(((await call(srv.url, "/auth/session", intruder.token)).body as ErrorBody).dispute).toBeUndefined();
    expect((await handshakeError(srv.url, intruder.token)).data?.dispute).toBeUndefined();
    // The intruder's own (ended) session token is no capability either.
    expect(((await dispute(srv, intruder.token)).body as ErrorBody).error).toBe("invalid_token");
  });

  it("a failing onDispute answers 500 internal_error; the sessions stay ended and the dispute audited", async () => {
    const srv = await server({
      onDispute: () => {
        throw new Error("lock failed");
      },
    });
    const { intruder, capability } = await takenOver(srv);
    const res = await dispute(srv, capability);
    expect(res.status).toBe(500);
    expect((res.body as ErrorBody).error).toBe("internal_error");
    expect(await isLive(srv, intruder.token)).toBe(false);
    const admin = await adminToken(srv.url);
    await vi.waitFor(async () =>
      expect((await auditTrail(srv.url, admin, { user: "alice" })).some((e) => e.kind === "disputed")).toBe(true),
    );
    expect(await disputes(srv, "error")).toBe(1);
  });

  it("with dispute: false, no capability is issued and the route is 404", async () => {
    const srv = await server({ dispute: false });
    const laptop = await login(srv.url);
    const told = nextRevocation(await socketFor(srv.url, laptop.token));
    await login(srv.url);
    expect((await told).dispute).toBeUndefined();
    expect(((await call(srv.url, "/auth/session", laptop.token)).body as ErrorBody).dispute).toBeUndefined();
    const res = await dispute(srv, "x.y.z");
    expect(res.status).toBe(404);
  });

  it("logs one line per dispute with hashed ids, and never the capability", async () => {
    const raw: string[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void raw.push(line) });
    const srv = await server({ logger });
    const { laptop, intruder, capability } = await takenOver(srv);
    await call(srv.url, "/auth/session", laptop.token);
    expect((await dispute(srv, capability)).status).toBe(200);
    expect((await dispute(srv, capability)).status).toBe(409);
    await vi.waitFor(() => expect(raw.filter((l) => l.includes('"event":"dispute"'))).toHaveLength(2));
    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "dispute");
    expect(lines[0]).toMatchObject({
      outcome: "accepted",
      userId: "alice",
      sid: logId(intruder.session.id),
      bySid: logId(laptop.session.id),
      ended: [logId(intruder.session.id)],
    });
    expect(lines[1]).toMatchObject({ outcome: "refused", sid: logId(intruder.session.id) });
    const all = raw.join("\n");
    expect(all).not.toContain(capability);
    expect(all).not.toContain(capability.split(".")[2]);
    expect(all).not.toContain(laptop.session.id);
    expect(all).not.toContain(intruder.session.id);
  });
});

describe("on several nodes sharing Redis", () => {
  const shared = testResources("all");
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await shared.redis();
  });

  it("a notice heard from another node carries the capability; a capability is spent once across nodes", async () => {
    const [n1, n2] = (await nodes(2, {
      redis: { url: redis.url, keyPrefix: uniquePrefix("d") },
      dataDir: shared.dir("solo-dispute-"),
    })) as [TestServer, TestServer];
    const laptop = await login(n1.url, { username: "alice" });
    const told = nextRevocation(await socketFor(n1.url, laptop.token));
    const intruder = await login(n2.url, { username: "alice" });
    const notice = await told;
    expect(notice.reason).toBe("replaced");
    expect(typeof notice.dispute).toBe("string");
    const answers = await Promise.all([dispute(n1, notice.dispute), dispute(n2, notice.dispute)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await isLive(n1, intruder.token)).toBe(false);
  });
});
