import { io } from "socket.io-client";
import { beforeAll, describe, expect, it } from "vitest";
import type { ConnectErrorData, ErrorBody, ErrorCode, LoginResponse } from "../../protocol/index.js";
import { call, connect, handshakeError, login } from "../support/client.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";
import {
  b64,
  type ForgeKey,
  forgeKey,
  goodClaims,
  goodHeader,
  hmac,
  publicKeySecrets,
  respellSignature,
  serverKeys,
  signCompact,
  strangerKey,
  unsecured,
} from "../support/tokens.js";

// Token attacks against a real server: each forged token is refused with 401 and its code on
// GET /auth/session, on an API route behind requireSession(), and on the Socket.IO handshake.
// Most tokens are signed with the server's own private key, so that the one defect under
// test is what gets them refused; the accepted cases at each edge prove the forging is faithful.

const TOLERANCE = 5;
const now = Math.floor(Date.now() / 1000) * 1000;
const shared = testResources("all");
let srv: TestServer;
let victim: LoginResponse;
let key: ForgeKey;

beforeAll(async () => {
  srv = await shared.server({ clock: () => now, clockTolerance: TOLERANCE, rateLimit: false });
  victim = await login(srv.url);
  const jwk = serverKeys(srv.dataDir)[0];
  if (!jwk) throw new Error("no server key");
  key = forgeKey(jwk);
});

const sec = () => Math.floor(now / 1000);
const claims = (overrides: Record<string, unknown> = {}, issuer?: { issuer: string }) =>
  goodClaims(victim.session, now, overrides, issuer);
const signed = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signCompact(key, { ...goodHeader(key), ...header }, claims(overrides));

/** The outcome of a token on the three doors: the code, or "ok". */
async function outcomes(token: string): Promise<{ session: string; api: string; socket: string }> {
  const answer = async (path: string) => {
    const res = await call(srv.url, path, token);
    if (res.status === 200) return "ok";
    expect(res.status, `${path} status`).toBe(401);
    return (res.body as ErrorBody).error;
  };
  let socket: string;
  try {
    const s = await connect(srv.url, token);
    s.close();
    socket = "ok";
  } catch (error) {
    socket = (error as Error & { data?: { code: ErrorCode } }).data?.code ?? `transport: ${(error as Error).message}`;
  }
  return { session: await answer("/auth/session"), api: await answer("/api/notes"), socket };
}

function everywhere(code: string) {
  return { session: code, api: code, socket: code };
}

describe("token attacks on HTTP and on the Socket.IO handshake", () => {
  it("accepts the genuine token and a faithful forgery (the baseline)", async () => {
    expect(await outcomes(victim.token)).toEqual(everywhere("ok"));
    expect(await outcomes(signed())).toEqual(everywhere("ok"));
  });

  it("refuses alg none", async () => {
    for (const alg of ["none", "None", "NONE"]) {
      const header = { alg, typ: "session+jwt", kid: key.kid };
      expect(await outcomes(unsecured(header, claims()))).toEqual(everywhere("invalid_token"));
      const withSig = unsecured(header, claims(), victim.token.split(".")[2]);
      expect(await outcomes(withSig)).toEqual(everywhere("invalid_token"));
    }
  });

  it("refuses HS256 signed with the server's public key (as published at /auth/jwks.json)", async () => {
    const jwks = (await call(srv.url, "/auth/jwks.json", null)).body as { keys: Record<string, unknown>[] };
    const published = jwks.keys.find((k) => k.kid === key.kid);
    expect(published?.x).toBe(key.publicJwk.x);
    for (const secret of publicKeySecrets(key)) {
      const token = hmac(secret, { alg: "HS256", typ: "session+jwt", kid: key.kid }, claims());
      expect(await outcomes(token)).toEqual(everywhere("invalid_token"));
    }
  });

  it.each(["exp", "iat", "sub", "jti", "sid"])("refuses a token without %s", async (claim) => {
    expect(await outcomes(signed({ [claim]: undefined }))).toEqual(everywhere("invalid_token"));
  });

  it.each([
    ["iss", { iss: "https://attacker.example" }],
    ["aud", { aud: "another-app" }],
  ])("refuses the wrong %s", async (_name, overrides) => {
    expect(await outcomes(signed(overrides))).toEqual(everywhere("invalid_token"));
  });

  it("refuses the wrong typ", async () => {
    for (const typ of ["JWT", "at+jwt", "session"]) {
      expect(await outcomes(signed({}, { typ }))).toEqual(everywhere("invalid_token"));
    }
  });

  it("refuses an expired token exactly at the clock-tolerance edge, and accepts it one second before", async () => {
    expect(await outcomes(signed({ exp: sec() - TOLERANCE + 1 }))).toEqual(everywhere("ok"));
    expect(await outcomes(signed({ exp: sec() - TOLERANCE }))).toEqual(everywhere("token_expired"));
    expect(await outcomes(signed({ exp: sec() - 3600 }))).toEqual(everywhere("token_expired"));
  });

  it("refuses a not-yet-valid token just past the clock-tolerance edge, and accepts it at the edge", async () => {
    expect(await outcomes(signed({ iat: sec() + TOLERANCE }))).toEqual(everywhere("ok"));
    expect(await outcomes(signed({ iat: sec() + TOLERANCE + 1 }))).toEqual(everywhere("invalid_token"));
    expect(await outcomes(signed({ nbf: sec() + TOLERANCE + 1 }))).toEqual(everywhere("invalid_token"));
  });

  it.each([
    ["unknown", "no-such-key"],
    ["a relative path", "../../../../../../etc/passwd"],
    ["the key file's path", "../keys.json"],
    ["an absolute path", "/dev/zero"],
    ["SQL text", "' UNION SELECT id FROM sessions --"],
    ["SQL text with a quote", "x'); DROP TABLE sessions; --"],
    ["a prototype property", "__proto__"],
    ["a URL", "https://attacker.example/jwks.json"],
  ])("refuses a kid that is %s", async (_name, kid) => {
    expect(await outcomes(signed({}, { kid }))).toEqual(everywhere("invalid_token"));
  });

  it.each([
    ["jku", "https://attacker.example/jwks.json"],
    ["x5u", "https://attacker.example/cert.pem"],
  ])("refuses a %s header", async (name, value) => {
    expect(await outcomes(signed({}, { [name]: value }))).toEqual(everywhere("invalid_token"));
  });

  it("refuses an embedded jwk header, even one carrying an attacker's key that signed the token", async () => {
    const mallory = strangerKey(key.kid);
    const token = signCompact(mallory, { ...goodHeader(mallory), jwk: mallory.publicJwk }, claims());
    expect(await outcomes(token)).toEqual(everywhere("invalid_token"));
    expect(await outcomes(signed({}, { jwk: key.publicJwk }))).toEqual(everywhere("invalid_token"));
  });

  it("refuses a valid signature of another issuer's key, under our kid and under its own", async () => {
    const impostor = strangerKey(key.kid);
    expect(await outcomes(signCompact(impostor, goodHeader(impostor), claims()))).toEqual(everywhere("invalid_token"));
    const other = strangerKey("idp-2024");
    const theirs = signCompact(other, goodHeader(other), claims({}, { issuer: "https://idp.example" }));
    expect(await outcomes(theirs)).toEqual(everywhere("invalid_token"));
  });

  it("refuses malformed base64url, invalid JSON and a respelled signature", async () => {
    const [h, p, s] = victim.token.split(".") as [string, string, string];
    const cases = [
      `${h}.${p}.${s}=`,
      `${h}=.${p}.${s}`,
      `${h}.${p.replace(/-/g, "+").replace(/_/g, "/")}x+/.${s}`,
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${b64("{not json")}.${p}.${s}`,
      `${h}.${b64("[1,2,")}.${s}`,
      `${b64([])}.${p}.${s}`,
      respellSignature(victim.token),
      "....",
      "%00.%00.%00",
    ];
    for (const token of cases) expect(await outcomes(token), token).toEqual(everywhere("invalid_token"));
  });

  it("refuses huge tokens without reading them", async () => {
    const huge = `${victim.token}.${"A".repeat(6000)}`;
    expect(await outcomes(huge)).toEqual(everywhere("invalid_token"));
    const bigger = "A".repeat(12_000);
    const res = await call(srv.url, "/auth/session", bigger);
    expect(res.status).toBe(401);
    expect((res.body as ErrorBody).error).toBe("invalid_token");
  });

  it("refuses the same attacks carried in the cookie, and clears that cookie", async () => {
    for (const token of [signed({ exp: undefined }), unsecured({ alg: "none" }, claims()), "junk"]) {
      const res = await call(srv.url, "/auth/session", null, { headers: { cookie: `solo_session=${token}` } });
      expect(res.status).toBe(401);
      expect((res.body as ErrorBody).error).toBe("invalid_token");
      expect(res.headers.get("set-cookie")).toMatch(/^solo_session=; Path=\/; Expires=Thu, 01 Jan 1970/);
      const refused = await handshakeError(srv.url, null, { extraHeaders: { cookie: `solo_session=${token}` } });
      expect(refused.message).toBe("invalid_token");
    }
  });

  it("never reads a token from the URL: query parameters are ignored on HTTP and on the handshake", async () => {
    const q = encodeURIComponent(victim.token);
    for (const path of [`/auth/session?token=${q}`, `/api/notes?access_token=${q}`]) {
      const res = await call(srv.url, path, null);
      expect(res.status).toBe(401);
      expect((res.body as ErrorBody).error).toBe("missing_token");
    }
    const refused = await handshakeError(srv.url, null, { query: { token: victim.token } });
    expect(refused.message).toBe("missing_token");
  });

  it("still serves the victim's session after all of the above", async () => {
    expect(await outcomes(victim.token)).toEqual(everywhere("ok"));
  });
});

// A present but malformed Authorization header is refused with invalid_token on every path that
// reads a token; it never falls back to the cookie, and it never skips the CSRF check for a
// request that the cookie would then authenticate (issue 12, point 6).
describe("a malformed Authorization header next to a valid cookie", () => {
  const { server, track, socketFor } = testResources();
  const EVIL = "https://evil.example";
  const MALFORMED = [
    "Bearer x y",
    "Bearer",
    "Bearer ",
    "Basic YWxpY2U6ZGVtbw==",
    "Token abc",
    "Bearer: abc",
    "Bearer,abc",
    "abc",
  ];

  async function cookieLogin(url: string, username = "alice", password = "demo") {
    const res = await login(url, { username, password });
    return { ...res, cookie: (res.cookie as string).split(";")[0] as string };
  }

  /** The connect_error of a handshake to `nsp` carrying these headers (no `auth.token`). */
  function headerHandshake(
    url: string,
    nsp: string,
    headers: Record<string, string>,
  ): Promise<ConnectErrorData | "ok"> {
    const socket = io(`${url}${nsp}`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      extraHeaders: headers,
    });
    track(socket);
    return new Promise((resolve) => {
      socket.once("connect", () => resolve("ok"));
      socket.once("connect_error", (error: Error & { data?: ConnectErrorData }) =>
        resolve(error.data ?? { code: "internal_error", message: error.message }),
      );
    });
  }

  it("is refused with invalid_token on GET /auth/session, requireSession() and POST /auth/logout, and the cookie stays", async () => {
    const srv = await server();
    const alice = await cookieLogin(srv.url);
    // The baseline: the cookie alone is a live session.
    expect((await call(srv.url, "/auth/session", null, { headers: { cookie: alice.cookie } })).status).toBe(200);
    expect((await call(srv.url, "/api/notes", null, { headers: { cookie: alice.cookie } })).status).toBe(200);

    for (const authorization of MALFORMED) {
      const headers = { cookie: alice.cookie, authorization };
      for (const [method, path] of [
        ["GET", "/auth/session"],
        ["GET", "/api/notes"],
        ["POST", "/api/notes"],
        ["POST", "/auth/logout"],
        ["POST", "/auth/logout?scope=all"],
      ] as const) {
        const res = await call(srv.url, path, null, { method, headers: { ...headers, origin: srv.url } });
        expect(res.status, `${authorization} ${method} ${path}`).toBe(401);
        expect((res.body as ErrorBody).error, `${authorization} ${method} ${path}`).toBe("invalid_token");
        // The cookie was not what the request was judged by: it is not cleared.
        expect(res.headers.get("set-cookie"), `${authorization} ${method} ${path}`).toBeNull();
      }
    }
    // Nothing was ended or changed: the cookie still holds the live session.
    expect((await call(srv.url, "/auth/session", null, { headers: { cookie: alice.cookie } })).status).toBe(200);
    expect((await srv.solo.store.get(alice.session.id))?.ended).toBeNull();
  });

  it("does not let a cross-site request skip the CSRF check and then ride the cookie", async () => {
    const srv = await server();
    const alice = await cookieLogin(srv.url);
    for (const authorization of MALFORMED) {
      for (const origin of [EVIL, undefined]) {
        const headers: Record<string, string> = { cookie: alice.cookie, authorization };
        if (origin) headers.origin = origin;
        const note = await call(srv.url, "/api/notes", null, { method: "POST", headers });
        expect(note.status, `${authorization} ${origin}`).not.toBe(201);
        expect((note.body as ErrorBody).error, `${authorization} ${origin}`).toBe("invalid_token");
      }
    }
    // The CSRF decision follows the token actually used: the cookie alone from a foreign origin is
    // refused by the origin check, a well-formed Bearer token is not ambient and passes.
    const forged = await call(srv.url, "/api/notes", null, {
      method: "POST",
      headers: { cookie: alice.cookie, origin: EVIL },
    });
    expect((forged.body as ErrorBody).error).toBe("origin_not_allowed");
    const bearer = await call(srv.url, "/api/notes", alice.token, {
      method: "POST",
      headers: { cookie: alice.cookie, origin: EVIL },
    });
    expect(bearer.status).toBe(201);
    expect((await srv.solo.store.get(alice.session.id))?.ended).toBeNull();
  });

  it("is refused with invalid_token on the /session and /admin handshakes, which read the same headers", async () => {
    const srv = await server();
    const alice = await cookieLogin(srv.url);
    const admin = await cookieLogin(srv.url, "admin", "admin");
    expect(await headerHandshake(srv.url, "/session", { cookie: alice.cookie })).toBe("ok");
    expect(await headerHandshake(srv.url, "/admin", { cookie: admin.cookie })).toBe("ok");
    for (const authorization of MALFORMED) {
      const session = await headerHandshake(srv.url, "/session", { cookie: alice.cookie, authorization });
      expect(session === "ok" ? "ok" : session.code, authorization).toBe("invalid_token");
      const feed = await headerHandshake(srv.url, "/admin", { cookie: admin.cookie, authorization });
      expect(feed === "ok" ? "ok" : feed.code, authorization).toBe("invalid_token");
    }
    // A token in the handshake's auth payload is what is used then, as before.
    const socket = await socketFor(srv.url, alice.token, { extraHeaders: { authorization: "Bearer x y" } });
    expect(socket.connected).toBe(true);
  });

  it("is refused with invalid_token by POST /auth/introspect; no header at all is missing_token", async () => {
    const secret = "0123456789abcdef-introspect";
    const srv = await server({ introspectSecret: secret });
    const alice = await cookieLogin(srv.url);
    const body = new URLSearchParams({ token: alice.token });
    for (const authorization of [...MALFORMED, `Bearer ${secret} extra`]) {
      const res = await call(srv.url, "/auth/introspect", null, { method: "POST", headers: { authorization }, body });
      expect(res.status, authorization).toBe(401);
      expect((res.body as ErrorBody).error, authorization).toBe("invalid_token");
    }
    const none = await call(srv.url, "/auth/introspect", null, { method: "POST", body });
    expect((none.body as ErrorBody).error).toBe("missing_token");
    const good = await call(srv.url, "/auth/introspect", null, {
      method: "POST",
      headers: { authorization: `bearer \t${secret}` },
      body,
    });
    expect(good.body).toMatchObject({ active: true });
  });
});
