import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody, ErrorCode, LoginResponse } from "../../server/protocol.js";
import { call, connect, handshakeError, login } from "../support/client.js";
import { startTestServer, type TestServer } from "../support/server.js";
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
let srv: TestServer;
let victim: LoginResponse;
let key: ForgeKey;

beforeAll(async () => {
  srv = await startTestServer({ clock: () => now, clockTolerance: TOLERANCE, rateLimit: false });
  victim = await login(srv.url);
  const jwk = serverKeys(srv.dataDir)[0];
  if (!jwk) throw new Error("no server key");
  key = forgeKey(jwk);
});
afterAll(async () => {
  await srv.close({ removeData: true });
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
