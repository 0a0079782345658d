import { beforeEach, describe, expect, it } from "vitest";
import type { ErrorCode } from "../../protocol/index.js";
import { SoloError } from "../../server/errors/solo-error.js";
import { loadKeyRing } from "../../server/tokens/key-file.js";
import { generatePrivateJwk, type KeyRing, type PrivateJwk } from "../../server/tokens/key-ring.js";
import { isCompactJws, MAX_TOKEN_LENGTH, TokenService } from "../../server/tokens/tokens.js";
import {
  b64,
  type ForgeKey,
  forgeKey,
  goodClaims,
  goodHeader,
  hmac,
  type Json,
  publicKeySecrets,
  respellSignature,
  signCompact,
  strangerKey,
  unsecured,
} from "../support/tokens.js";

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const TOLERANCE = 5;
const session = { id: "s-1a2b3c4d5e6f7g8h9i0j", userId: "alice" };

let now = T0;
let jwk: PrivateJwk;
let key: ForgeKey;
let ring: KeyRing;
let tokens: TokenService;

function service(r: KeyRing, cacheSize = 100): TokenService {
  return new TokenService(r, {
    issuer: "solo-session",
    audience: "solo-session",
    clockTolerance: TOLERANCE,
    clock: () => now,
    cacheSize,
  });
}

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | "accepted"> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    if (error instanceof SoloError) return error.code;
    throw error;
  }
}

const forged = (header: Json, claims: Json = goodClaims(session, now)) => signCompact(key, header, claims);

beforeEach(async () => {
  now = T0;
  jwk = await generatePrivateJwk();
  key = forgeKey(jwk);
  ring = await loadKeyRing({ signingKeys: { keys: [jwk] } });
  tokens = service(ring);
});

describe("TokenService", () => {
  it("signs tokens it verifies, with the pinned header and the required claims", async () => {
    const token = await tokens.sign({
      userId: "alice",
      sessionId: session.id,
      roles: ["admin"],
      issuedAt: now,
      expiresAt: now + 3600_000,
    });
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    expect(header).toEqual({ alg: "EdDSA", typ: "session+jwt", kid: key.kid });
    expect(payload).toMatchObject({ sub: "alice", sid: session.id, jti: session.id, roles: ["admin"] });
    const claims = await tokens.verify(token);
    expect(claims.sub).toBe("alice");
    expect(claims.roles).toEqual(["admin"]);
    expect(claims.exp).toBe(Math.floor((T0 + 3600_000) / 1000));
    // A token forged with the server's key and genuine claims is accepted: the helpers are faithful.
    expect(await codeOf(tokens.verify(forged(goodHeader(key))))).toBe("accepted");
  });

  it("refuses an expired token from the clock-tolerance edge on, and accepts it one second before", async () => {
    const exp = Math.floor(now / 1000) + 60;
    const token = forged(goodHeader(key), goodClaims(session, now, { exp }));
    now = (exp + TOLERANCE - 1) * 1000;
    expect(await codeOf(tokens.verify(token))).toBe("accepted");
    now = (exp + TOLERANCE) * 1000;
    expect(await codeOf(tokens.verify(token))).toBe("token_expired");
    // The cache does not keep an expired token alive, and a fresh service agrees.
    expect(await codeOf(service(ring, 0).verify(token))).toBe("token_expired");
  });

  it("refuses a token issued in the future beyond the tolerance (not yet valid), and nbf in the future", async () => {
    const t = Math.floor(now / 1000);
    const atEdge = forged(goodHeader(key), goodClaims(session, now, { iat: t + TOLERANCE, exp: t + 3600 }));
    const beyond = forged(goodHeader(key), goodClaims(session, now, { iat: t + TOLERANCE + 1, exp: t + 3600 }));
    const nbf = forged(goodHeader(key), goodClaims(session, now, { nbf: t + TOLERANCE + 1 }));
    expect(await codeOf(tokens.verify(atEdge))).toBe("accepted");
    expect(await codeOf(tokens.verify(beyond))).toBe("invalid_token");
    expect(await codeOf(tokens.verify(nbf))).toBe("invalid_token");
  });

  it.each([
    ["exp", { exp: undefined }],
    ["iat", { iat: undefined }],
    ["sub", { sub: undefined }],
    ["jti", { jti: undefined }],
    ["sid", { sid: undefined }],
    ["sid differing from jti", { jti: "another-session-id" }],
    ["an empty sub", { sub: "" }],
    ["exp as a string", { exp: "9999999999" }],
    ["roles that are not strings", { roles: [1, 2] }],
    ["the wrong iss", { iss: "someone-else" }],
    ["the wrong aud", { aud: "another-app" }],
    ["aud as a list without ours", { aud: ["another-app"] }],
  ])("refuses a correctly signed token with %s", async (_name, overrides) => {
    const token = forged(goodHeader(key), goodClaims(session, now, overrides));
    expect(await codeOf(tokens.verify(token))).toBe("invalid_token");
  });

  it.each([
    ["typ JWT", { typ: "JWT" }],
    ["no typ", { typ: undefined }],
    ["typ at+jwt", { typ: "at+jwt" }],
  ])("refuses a correctly signed token with %s", async (_name, extra) => {
    const header = goodHeader(key, extra);
    for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
    expect(await codeOf(tokens.verify(forged(header)))).toBe("invalid_token");
  });

  it("refuses alg none, with or without a signature, in any spelling", async () => {
    const claims = goodClaims(session, now);
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      expect(await codeOf(tokens.verify(unsecured({ alg, typ: "session+jwt", kid: key.kid }, claims)))).toBe(
        "invalid_token",
      );
      expect(
        await codeOf(tokens.verify(unsecured({ alg, typ: "session+jwt", kid: key.kid }, claims, "c2lnbmF0dXJl"))),
      ).toBe("invalid_token");
    }
  });

  it("refuses HS256 signed with the public key (algorithm confusion)", async () => {
    const claims = goodClaims(session, now);
    for (const secret of publicKeySecrets(key)) {
      for (const alg of ["HS256", "HS384", "HS512"]) {
        const token = hmac(secret, { alg, typ: "session+jwt", kid: key.kid }, claims);
        expect(await codeOf(tokens.verify(token))).toBe("invalid_token");
      }
    }
  });

  it("refuses a token whose alg does not match its key (ES256 header on an Ed25519 key)", async () => {
    const token = forged({ ...goodHeader(key), alg: "ES256" });
    expect(await codeOf(tokens.verify(token))).toBe("invalid_token");
  });

  it("refuses a tampered payload and a tampered signature", async () => {
    const token = forged(goodHeader(key));
    const [h, , s] = token.split(".");
    const other = b64(goodClaims({ id: session.id, userId: "mallory" }, now));
    expect(await codeOf(tokens.verify(`${h}.${other}.${s}`))).toBe("invalid_token");
    const sig = Buffer.from(s as string, "base64url");
    sig[10] = (sig[10] as number) ^ 0xff;
    expect(await codeOf(tokens.verify(`${h}.${token.split(".")[1]}.${sig.toString("base64url")}`))).toBe(
      "invalid_token",
    );
  });

  it("refuses a signature spelled in non-canonical base64url although its bytes verify", async () => {
    const token = forged(goodHeader(key));
    const respelled = respellSignature(token);
    expect(respelled).not.toBe(token);
    // The bytes are the same: only the canonical-form check refuses it.
    expect(Buffer.from(respelled.split(".")[2] as string, "base64url")).toEqual(
      Buffer.from(token.split(".")[2] as string, "base64url"),
    );
    expect(isCompactJws(token)).toBe(true);
    expect(isCompactJws(respelled)).toBe(false);
    expect(await codeOf(tokens.verify(token))).toBe("accepted");
    expect(await codeOf(tokens.verify(respelled))).toBe("invalid_token");
  });

  it.each([
    ["an unknown kid", "0123456789abcdef"],
    ["a path as kid", "../../../../etc/passwd"],
    ["an absolute path as kid", "/dev/null"],
    ["SQL as kid", "' OR 1=1; DROP TABLE sessions; --"],
    ["a prototype name as kid", "__proto__"],
    ["a URL as kid", "https://attacker.example/key.json"],
    ["a huge kid", "k".repeat(2000)],
  ])("refuses %s", async (_name, kid) => {
    const token = forged({ ...goodHeader(key), kid });
    expect(await codeOf(tokens.verify(token))).toBe("invalid_token");
  });

  it("refuses a token without kid and a kid that is not a string", async () => {
    const { kid: _kid, ...noKid } = goodHeader(key);
    expect(await codeOf(tokens.verify(forged(noKid)))).toBe("invalid_token");
    expect(await codeOf(tokens.verify(forged({ ...goodHeader(key), kid: ["x"] })))).toBe("invalid_token");
  });

  it.each(["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"])(
    "refuses a correctly signed token with a %s header",
    async (name) => {
      const values: Json = {
        jku: "https://attacker.example/jwks.json",
        jwk: key.publicJwk,
        x5u: "https://attacker.example/cert.pem",
        x5c: ["MIIB"],
        x5t: "abc",
        "x5t#S256": "abc",
        crit: ["exp"],
      };
      const token = forged({ ...goodHeader(key), [name]: values[name] });
      expect(await codeOf(tokens.verify(token))).toBe("invalid_token");
    },
  );

  it("refuses a valid signature of another issuer's key, even under our kid", async () => {
    const stranger = strangerKey(key.kid);
    const claims = goodClaims(session, now);
    expect(await codeOf(tokens.verify(signCompact(stranger, goodHeader(stranger), claims)))).toBe("invalid_token");
    const theirs = strangerKey("their-key");
    const theirClaims = goodClaims(session, now, {}, { issuer: "https://idp.example" });
    expect(await codeOf(tokens.verify(signCompact(theirs, goodHeader(theirs), theirClaims)))).toBe("invalid_token");
  });

  it.each([
    ["an empty string", ""],
    ["two segments", "a.b"],
    ["four segments", "a.b.c.d"],
    ["an empty signature", `${b64({ alg: "EdDSA" })}.${b64({})}.`],
    ["padding", "eyJhbGciOiJFZERTQSJ9.e30=.c2ln"],
    ["standard base64 characters", "eyJhbGciOiJFZERTQSJ9.e3+/.c2ln"],
    ["whitespace", "eyJhbGciOiJFZERTQSJ9 .e30.c2ln"],
    ["a header that is not JSON", `${b64("not json")}.${b64({})}.c2ln`],
    ["a header that is a JSON array", `${b64([1, 2])}.${b64({})}.c2ln`],
    ["a payload that is not JSON", `${b64({ alg: "EdDSA", kid: "x", typ: "session+jwt" })}.${b64("{")}.c2ln`],
    ["unicode", "éé.éé.éé"],
    ["a token one character too long", "a".repeat(MAX_TOKEN_LENGTH + 1)],
    ["a huge token", `${"a".repeat(100_000)}.b.c`],
  ])("refuses %s as invalid_token", async (_name, token) => {
    expect(await codeOf(tokens.verify(token))).toBe("invalid_token");
  });

  it("keeps verifying an old key's tokens after a rotation, and forgets them when the key is removed", async () => {
    const old = await tokens.sign({
      userId: "alice",
      sessionId: session.id,
      roles: [],
      issuedAt: now,
      expiresAt: now + 3600_000,
    });
    expect(await codeOf(tokens.verify(old))).toBe("accepted"); // now cached
    const fresh = await generatePrivateJwk();
    tokens.setRing(await loadKeyRing({ signingKeys: { keys: [fresh, jwk] } }));
    expect(await codeOf(tokens.verify(old))).toBe("accepted");
    const signedNow = await tokens.sign({
      userId: "bob",
      sessionId: "s-2",
      roles: [],
      issuedAt: now,
      expiresAt: now + 3600_000,
    });
    expect(JSON.parse(Buffer.from(signedNow.split(".")[0] as string, "base64url").toString()).kid).toBe(fresh.kid);
    tokens.setRing(await loadKeyRing({ signingKeys: { keys: [fresh] } }));
    expect(await codeOf(tokens.verify(old))).toBe("invalid_token");
    expect(await codeOf(tokens.verify(signedNow))).toBe("accepted");
  });

  it("signs with a pending key only once its activation time has come", async () => {
    const pending: PrivateJwk = { ...(await generatePrivateJwk()), activatesAt: new Date(now + 30_000).toISOString() };
    tokens.setRing(await loadKeyRing({ signingKeys: { keys: [pending, jwk] } }));
    const kidOf = async () => {
      const t = await tokens.sign({ userId: "a", sessionId: "s", roles: [], issuedAt: now, expiresAt: now + 60_000 });
      return JSON.parse(Buffer.from(t.split(".")[0] as string, "base64url").toString()).kid as string;
    };
    expect(await kidOf()).toBe(jwk.kid);
    now += 29_999;
    expect(await kidOf()).toBe(jwk.kid);
    now += 1;
    expect(await kidOf()).toBe(pending.kid);
  });

  it("verifies ES256 keys as well", async () => {
    const { generateKeyPair, exportJWK, calculateJwkThumbprint } = await import("jose");
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const es = await exportJWK(privateKey);
    const esJwk: PrivateJwk = { ...es, kid: await calculateJwkThumbprint(es), alg: "ES256" };
    const esTokens = service(await loadKeyRing({ signingKeys: { keys: [esJwk] } }));
    const token = await esTokens.sign({
      userId: "alice",
      sessionId: session.id,
      roles: [],
      issuedAt: now,
      expiresAt: now + 60_000,
    });
    expect(await codeOf(esTokens.verify(token))).toBe("accepted");
    const esKey = forgeKey(esJwk);
    expect(await codeOf(esTokens.verify(signCompact(esKey, goodHeader(esKey), goodClaims(session, now))))).toBe(
      "accepted",
    );
    expect(await codeOf(esTokens.verify(forged(goodHeader(key))))).toBe("invalid_token");
  });
});

describe("verifyAllowingExpiry", () => {
  const lifetime = 3600;
  const expiredClaims = () => goodClaims(session, now - (lifetime + 60) * 1000, {}, { lifetime });

  it("returns a genuine expired token's claims with expired: true, and fresh tokens with expired: false", async () => {
    const fresh = await tokens.verifyAllowingExpiry(forged(goodHeader(key)));
    expect(fresh.expired).toBe(false);
    const old = await tokens.verifyAllowingExpiry(forged(goodHeader(key), expiredClaims()));
    expect(old.expired).toBe(true);
    expect(old.claims.sid).toBe(session.id);
    // verify() still refuses it.
    expect(await codeOf(tokens.verify(forged(goodHeader(key), expiredClaims())))).toBe("token_expired");
  });

  it("checks everything else on an expired token: signature, key, algorithm, issuer, type", async () => {
    const stranger = strangerKey(key.kid);
    const cases: Record<string, string> = {
      "another key": signCompact(stranger, goodHeader(key), expiredClaims()),
      "alg none": unsecured({ alg: "none", typ: "session+jwt", kid: key.kid }, expiredClaims()),
      hs256: hmac(JSON.stringify(key.publicJwk), { alg: "HS256", typ: "session+jwt", kid: key.kid }, expiredClaims()),
      "wrong issuer": forged(goodHeader(key), { ...expiredClaims(), iss: "someone-else" }),
      "wrong typ": forged({ ...goodHeader(key), typ: "JWT" }, expiredClaims()),
      "unknown kid": forged({ ...goodHeader(key), kid: "../../etc/passwd" }, expiredClaims()),
    };
    for (const [name, token] of Object.entries(cases)) {
      expect(await codeOf(tokens.verifyAllowingExpiry(token)), name).toBe("invalid_token");
    }
  });
});
