import fc from "fast-check";
import { io } from "socket.io-client";
import { beforeAll, describe, expect, it } from "vitest";
import { isErrorCode, type LoginResponse } from "../../protocol/index.js";
import type { SessionRecord } from "../../server/store/types.js";
import { type ClientSocket, login } from "../support/client.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";
import { b64, goodClaims, goodHeader, serverKeys, signCompact, strangerKey } from "../support/tokens.js";

// Property-based fuzz against a real server: thousands of random and mutated tokens, headers
// and login bodies, on HTTP and on the Socket.IO handshake. Never a 5xx, never a crash, every
// error carries a known code, and the victim's live session (and its socket) is untouched:
// no input owned it, so no input may end, replace or refresh it.

const shared = testResources("all");
let srv: TestServer;
let victim: LoginResponse;
let victimSocket: ClientSocket;
let victimRecord: SessionRecord;
let revoked = 0;
let serverKid: string;
let adminToken: string;
let adminSessionId: string;
const statuses = new Map<number, number>();
const codes = new Map<string, number>();

beforeAll(async () => {
  srv = await shared.server({
    trustProxy: true,
    rateLimit: {
      loginPerIp: { points: 1_000_000, duration: 60_000 },
      loginPerUser: { points: 1_000_000, duration: 60_000 },
      handshakePerIp: { points: 1_000_000, duration: 60_000 },
      handshakePerSession: { points: 1_000_000, duration: 60_000 },
    },
  });
  victim = await login(srv.url, { username: "bob", password: "demo", device: { name: "Victim" } });
  victimSocket = await shared.socketFor(srv.url, victim.token);
  victimSocket.on("session:revoked", () => {
    revoked++;
  });
  victimRecord = (await srv.solo.store.get(victim.session.id)) as SessionRecord;
  serverKid = String(serverKeys(srv.dataDir)[0]?.kid);
  const admin = await login(srv.url, { username: "admin", password: "admin" });
  adminToken = admin.token;
  adminSessionId = admin.session.id;
});

// ---------------------------------------------------------------- arbitraries

const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const b64url = (maxLength: number) =>
  fc.string({
    unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split("")),
    maxLength,
  });

const headerArb = fc.record(
  {
    alg: fc.oneof(fc.constantFrom("none", "None", "HS256", "EdDSA", "ES256", "RS256", "PS256", ""), printable(10)),
    typ: fc.oneof(fc.constantFrom("session+jwt", "JWT", "at+jwt"), printable(12)),
    kid: fc.oneof(
      fc.constant(""),
      fc.constantFrom("../keys.json", "/etc/passwd", "' OR '1'='1", "__proto__", "constructor"),
      printable(40),
    ),
    jku: fc.constant("https://attacker.example/jwks.json"),
    x5u: fc.constant("https://attacker.example/x.pem"),
    crit: fc.constant(["exp"]),
  },
  { requiredKeys: [] },
);

const claimsArb = fc
  .record(
    {
      sub: fc.oneof(fc.constantFrom("bob", "alice", ""), printable(20), fc.integer()),
      sid: fc.oneof(fc.constant("VICTIM"), printable(30)),
      jti: fc.oneof(fc.constant("VICTIM"), printable(30)),
      iss: fc.oneof(fc.constant("solo-session"), printable(20)),
      aud: fc.oneof(fc.constant("solo-session"), printable(20), fc.array(printable(10), { maxLength: 3 })),
      iat: fc.oneof(fc.integer(), fc.double(), fc.constant(null), printable(5)),
      exp: fc.oneof(fc.integer(), fc.double(), fc.constant(null), printable(5)),
      nbf: fc.integer(),
      roles: fc.oneof(fc.array(printable(8), { maxLength: 3 }), fc.anything()),
    },
    { requiredKeys: [] },
  )
  .map((claims) => {
    const out: Record<string, unknown> = { ...claims };
    for (const name of ["sid", "jti"]) if (out[name] === "VICTIM") out[name] = victim.session.id;
    return out;
  });

/** Mutations of the victim's own token: it must never be accepted in a changed form. */
const mutatedArb = fc
  .oneof(
    fc.record({ kind: fc.constant("flip"), at: fc.nat(), ch: printable(1) }),
    fc.record({ kind: fc.constant("cut"), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant("insert"), at: fc.nat(), text: printable(10) }),
    fc.record({ kind: fc.constant("header"), header: headerArb }),
    fc.record({ kind: fc.constant("payload"), claims: claimsArb }),
    fc.record({ kind: fc.constant("segments"), order: fc.shuffledSubarray([0, 1, 2, 2, 0]) }),
    fc.record({ kind: fc.constant("sig"), sig: b64url(100) }),
  )
  .map((m) => {
    const token = victim.token;
    const parts = token.split(".");
    const at = "at" in m ? m.at % (token.length + 1) : 0;
    switch (m.kind) {
      case "flip":
        return token.slice(0, at) + m.ch + token.slice(at + 1);
      case "cut":
        return token.slice(0, at) + token.slice(at + m.len);
      case "insert":
        return token.slice(0, at) + m.text + token.slice(at);
      case "header":
        return [b64(m.header), parts[1], parts[2]].join(".");
      case "payload":
        return [parts[0], b64(m.claims), parts[2]].join(".");
      case "segments":
        return m.order.map((i) => parts[i]).join(".");
      default:
        return [parts[0], parts[1], m.sig].join(".");
    }
  });

/** Tokens signed by an attacker's key under the server's kid, with arbitrary headers and claims. */
const strangerArb = fc.tuple(headerArb, claimsArb).map(([header, claims]) => {
  const key = strangerKey(serverKid);
  return signCompact(key, { ...goodHeader(key), ...header }, { ...goodClaims(victim.session, Date.now()), ...claims });
});

/** What the server would read out of a carrier: surrounding blanks and quotes go. */
const owns = (token: string) => token.trim().replace(/^"(.*)"$/, "$1") === victim.token;

const tokenArb = fc.oneof(
  { weight: 4, arbitrary: mutatedArb.filter((token) => !owns(token)) },
  { weight: 2, arbitrary: strangerArb },
  { weight: 1, arbitrary: fc.tuple(b64url(60), b64url(200), b64url(90)).map((p) => p.join(".")) },
  { weight: 1, arbitrary: printable(200) },
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 12_000 }).map((n) => "A".repeat(n)) },
);

const originArb = fc.option(
  fc.oneof(fc.constantFrom("null", "https://evil.example", "http://127.0.0.1"), printable(40)),
  { nil: undefined },
);
const forwardedArb = fc.option(
  fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    printable(30),
    fc.array(fc.ipV4(), { maxLength: 4 }).map((a) => a.join(", ")),
  ),
  { nil: undefined },
);

const credentialsArb = fc.oneof(
  fc
    .record(
      {
        username: fc.oneof(fc.constantFrom("bob", "alice", "BOB", "admin"), printable(30), fc.anything()),
        password: fc.oneof(printable(30), fc.anything()).filter((p) => p !== "demo" && p !== "admin"),
        device: fc.anything(),
        takeover: fc.anything(),
        email: printable(20),
      },
      { requiredKeys: ["password"] },
    )
    .map((body) => JSON.stringify(body)),
  fc.json(),
  printable(300),
  fc.integer({ min: 8000, max: 20_000 }).map((n) => JSON.stringify({ username: "bob", password: "x".repeat(n) })),
);

const contentTypeArb = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "application/json; charset=koi8-r",
    "text/plain",
    "application/x-www-form-urlencoded",
  ),
  printable(40),
);

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const credentialCarrierArb = fc.tuple(
  tokenArb,
  fc.constantFrom("bearer", "Bearer  ", "cookie", "host-cookie", "both", "basic", "raw"),
);

const tokenRequestArb = fc
  .tuple(
    credentialCarrierArb,
    fc.constantFrom(
      ["GET", "/auth/session"],
      ["GET", "/api/notes"],
      ["POST", "/api/notes"],
      ["POST", "/auth/logout"],
      ["POST", "/auth/logout?scope=all"],
      ["DELETE", "/api/notes"],
    ),
    originArb,
  )
  .map(([[token, carrier], [method, path], origin]): FuzzRequest => {
    const headers: Record<string, string> = {};
    if (carrier === "bearer") headers.authorization = `Bearer ${token}`;
    if (carrier === "Bearer  ") headers.authorization = `Bearer  ${token}  `;
    if (carrier === "basic") headers.authorization = `Basic ${token}`;
    if (carrier === "raw") headers.authorization = token;
    if (carrier === "cookie" || carrier === "both") headers.cookie = `solo_session=${token}`;
    if (carrier === "host-cookie") headers.cookie = `__Host-solo_session=${token}; solo_session=${token}`;
    if (carrier === "both") headers.authorization = `bearer ${token}`;
    if (origin !== undefined) headers.origin = origin;
    return { method, path, headers };
  });

const loginRequestArb = fc
  .tuple(credentialsArb, contentTypeArb, originArb, forwardedArb)
  .map(([body, type, origin, forwarded]): FuzzRequest => {
    const headers: Record<string, string> = { "content-type": type };
    if (origin !== undefined) headers.origin = origin;
    if (forwarded !== undefined) headers["x-forwarded-for"] = forwarded;
    return { method: "POST", path: "/auth/login", headers, body };
  });

const strayRequestArb = fc
  .tuple(
    fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
    fc.oneof(
      fc.constantFrom("/auth/login", "/auth/logout", "/auth/session", "/auth/jwks.json", "/auth/", "/auth/%00"),
      printable(40).map((p) => `/auth/${encodeURIComponent(p)}`),
    ),
    originArb,
    fc.option(printable(200), { nil: undefined }),
    fc.option(fc.constantFrom("POST", "DELETE", "GET"), { nil: undefined }),
  )
  .map(([method, path, origin, body, preflight]): FuzzRequest => {
    const headers: Record<string, string> = {};
    if (origin !== undefined) headers.origin = origin;
    if (preflight) headers["access-control-request-method"] = preflight;
    return { method, path, headers, body: method === "GET" || method === "HEAD" ? undefined : body };
  });

/** Percent-escapes that do not decode: not hex, cut short, invalid or overlong UTF-8, a lone surrogate. */
const BAD_ESCAPES = [
  "%",
  "%Z",
  "%ZZ",
  "%G0",
  "%8",
  "%E0%A4%A",
  "%E0%A4",
  "%C0%AF",
  "%ED%A0%80",
  "%FF",
  "%C3%28",
  "%F4%90%80%80",
];

/** A path segment with at least one escape that does not decode, amid safe characters and good escapes. */
const badSegmentArb = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.constantFrom("a", "b", "z", "0", "-", "_", "%20", "%41", "%C3%A9"),
        printable(3).map(encodeURIComponent),
      ),
      { maxLength: 4 },
    ),
    fc.constantFrom(...BAD_ESCAPES),
    fc.array(fc.constantFrom("a", "1", "%2F", "%25", "~"), { maxLength: 4 }),
  )
  .map(([before, bad, after]) => `${before.join("")}${bad}${after.join("")}`);

/** Malformed escapes in every path under the router, with and without an admin's token. */
const badPathRequestArb = fc
  .tuple(
    fc.constantFrom("GET", "POST", "DELETE", "PUT"),
    badSegmentArb,
    fc.constantFrom(
      (x: string) => `/auth/admin/users/${x}/sessions`,
      (x: string) => `/auth/admin/sessions/${x}`,
      (x: string) => `/auth/admin/${x}`,
      (x: string) => `/auth/admin/${x}/sessions`,
      (x: string) => `/auth/${x}`,
      (x: string) => `/auth/${x}/session`,
      (x: string) => `/auth/admin/sessions?user=${x}`,
      (x: string) => `/auth/admin/audit?session=${x}&user=${x}`,
    ),
    fc.boolean(),
  )
  .map(([method, segment, place, asAdmin]): FuzzRequest => {
    const headers: Record<string, string> = asAdmin ? { authorization: `Bearer ${adminToken}` } : {};
    return { method, path: place(segment), headers };
  });

// ---------------------------------------------------------------- the properties

type HandshakeOutcome = { kind: "connected" } | { kind: "refused"; code: unknown } | { kind: "closed"; reason: string };

/** One handshake with a fuzzed auth payload: accepted, refused with connect_error, or cut off. */
function tryHandshake(auth: unknown, origin: string | undefined): Promise<HandshakeOutcome> {
  const socket = io(`${srv.url}/session`, {
    auth: auth as Record<string, unknown>,
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 5000,
    extraHeaders: origin === undefined ? {} : { origin },
  });
  return new Promise<HandshakeOutcome>((resolve) => {
    socket.once("connect", () => resolve({ kind: "connected" }));
    socket.once("connect_error", (error: Error & { data?: { code?: unknown } }) =>
      resolve(error.data ? { kind: "refused", code: error.data.code } : { kind: "closed", reason: error.message }),
    );
    socket.io.once("close", (reason) => resolve({ kind: "closed", reason }));
  }).finally(() => socket.close());
}

async function send(r: FuzzRequest): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${srv.url}${r.path}`, { method: r.method, headers: r.headers, body: r.body });
  } catch (error) {
    // fetch refusing to build the request (a header value it will not send) is not the server's
    // doing; a failure to reach the server ("fetch failed") is.
    if (error instanceof TypeError && error.message !== "fetch failed") return;
    throw error;
  }
  const text = await res.text();
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  expect(res.status, `${r.method} ${r.path} ${JSON.stringify(r.headers).slice(0, 300)}`).toBeLessThan(500);
  if (r.method === "POST" && r.path === "/auth/login")
    expect(res.status, "no fuzzed login knows a password").not.toBe(200);
  if (r.method !== "HEAD" && res.headers.get("content-type")?.startsWith("application/json") && res.status >= 400) {
    const body = JSON.parse(text) as { error?: unknown };
    expect(isErrorCode(body.error), `${res.status} ${text.slice(0, 200)}`).toBe(true);
    codes.set(String(body.error), (codes.get(String(body.error)) ?? 0) + 1);
  }
}

async function victimIntact(): Promise<void> {
  const live = await srv.solo.store.listLive("bob");
  expect(live.map((s) => s.id)).toEqual([victim.session.id]);
  const record = await srv.solo.store.get(victim.session.id);
  expect(record?.ended).toBeNull();
  expect(record?.lastSeenAt).toBe(victimRecord.lastSeenAt);
  expect(victimSocket.connected).toBe(true);
  expect(revoked).toBe(0);
  // Nobody else got a session either (the admin signed in before the fuzz, to reach the admin routes).
  const all = await srv.solo.store.listAllLive({ limit: 100 });
  expect(all.sessions.map((s) => s.id).sort()).toEqual([victim.session.id, adminSessionId].sort());
}

describe("fuzz", () => {
  it("random and mutated tokens in every carrier: never a 5xx, never the victim's session", async () => {
    await fc.assert(fc.asyncProperty(tokenRequestArb, send), { numRuns: 2000 });
    await victimIntact();
  });

  it("random login bodies, content types, origins and forwarded addresses: never a 5xx, never a session", async () => {
    await fc.assert(fc.asyncProperty(loginRequestArb, send), { numRuns: 1500 });
    await victimIntact();
  });

  it("random methods and paths on the auth router: never a 5xx", async () => {
    await fc.assert(fc.asyncProperty(strayRequestArb, send), { numRuns: 500 });
    await victimIntact();
  });

  it("malformed percent-escapes in any path, with and without an admin's token: never a 5xx", async () => {
    await fc.assert(fc.asyncProperty(badPathRequestArb, send), { numRuns: 400 });
    await victimIntact();
  });

  it("answers a malformed percent-escape in an admin path with 400 invalid_request (examples)", async () => {
    const admin = { authorization: `Bearer ${adminToken}` };
    for (const [method, path] of [
      ["DELETE", "/auth/admin/users/%ZZ/sessions"],
      ["DELETE", "/auth/admin/sessions/%E0%A4%A"],
      ["DELETE", "/auth/admin/sessions/%ED%A0%80"],
      ["DELETE", "/auth/admin/users/bob%/sessions"],
      ["GET", "/auth/admin/users/%C0%AF/sessions"],
    ] as const) {
      const res = await fetch(`${srv.url}${path}`, { method, headers: admin });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(((await res.json()) as { error: string }).error, `${method} ${path}`).toBe("invalid_request");
    }
    // Without a session the admin routes answer 401 first, as for any path.
    const anonymous = await fetch(`${srv.url}/auth/admin/users/%ZZ/sessions`, { method: "DELETE" });
    expect(anonymous.status).toBe(401);
    await victimIntact();
  });

  it("random handshake payloads and tokens on the socket: refused with a known code, the victim's socket stays", async () => {
    const authArb = fc.oneof(
      tokenArb.map((token) => ({ token })),
      fc.anything().map((token) => ({ token })),
      fc.dictionary(printable(10), fc.anything(), { maxKeys: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(authArb, originArb, async (auth, origin) => {
        const token = (auth as { token?: unknown }).token;
        if (typeof token === "string" && owns(token)) return; // (String() of a fuzzed object may throw)
        const outcome = await tryHandshake(auth, origin);
        if (outcome.kind === "refused") {
          expect(isErrorCode(outcome.code), String(outcome.code)).toBe(true);
        } else {
          // Cut off below Socket.IO: a foreign Origin (403 before the upgrade) or a handshake over the size limit.
          expect(outcome.kind, JSON.stringify(auth).slice(0, 200)).toBe("closed");
        }
      }),
      { numRuns: 400 },
    );
    await victimIntact();
  });

  it("answered mostly refusals, each with its code (what the fuzz reached)", () => {
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(3500);
    for (const status of [400, 401, 403, 413]) expect(statuses.get(status) ?? 0, String(status)).toBeGreaterThan(0);
    // The inputs got past the outer checks to the deep ones: credentials were checked, tokens verified.
    for (const code of [
      "invalid_request",
      "invalid_credentials",
      "missing_token",
      "invalid_token",
      "origin_not_allowed",
      "payload_too_large",
    ]) {
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  });
});
