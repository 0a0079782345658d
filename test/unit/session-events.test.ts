import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { BACKCHANNEL_LOGOUT_EVENT, SESSION_REVOKED_EVENT } from "../../protocol/index.js";
import { EventDeliverer } from "../../server/events/deliverer.js";
import { eventClaims, eventJti } from "../../server/events/event-tokens.js";
import { resolveDelivery, resolveReceivers } from "../../server/events/receivers.js";
import { SessionEventError, verifySessionEvent } from "../../server/events/verify.js";
import { MemoryStore } from "../../server/store/memory/store.js";
import { newestWins, record, T0 } from "../../server/testing/contract/fixtures.js";

const NOW = T0;
const iat = Math.floor(NOW / 1000);

async function keyPair() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "EdDSA", use: "sig" };
  return { privateKey, jwks: { keys: [jwk] } };
}

const signer = await keyPair();
const stranger = await keyPair();

function logoutClaims(extra: JWTPayload = {}): JWTPayload {
  return {
    iss: "solo-session",
    aud: "notes",
    iat,
    exp: iat + 120,
    jti: "j1",
    sub: "alice",
    sid: "s1",
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...extra,
  };
}

async function sign(claims: JWTPayload, typ = "logout+jwt", key = signer.privateKey, kid = "k1"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ, kid }).sign(key);
}

const verify = (token: unknown, extra: object = {}) =>
  verifySessionEvent(token, { jwks: signer.jwks, audience: "notes", now: NOW, ...extra });

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SessionEventError);
    return (error as SessionEventError).code;
  }
  throw new Error("verified, but should have been refused");
}

describe("verifySessionEvent", () => {
  it("reads a logout token and a session-revoked SET", async () => {
    expect(await verify(await sign(logoutClaims()))).toEqual({
      format: "backchannel-logout",
      jti: "j1",
      issuer: "solo-session",
      userId: "alice",
      sessionId: "s1",
      at: iat * 1000,
    });
    const set = await sign(
      {
        iss: "solo-session",
        aud: "notes",
        iat,
        jti: "j2",
        sub_id: { format: "complex", user: { format: "opaque", id: "bob" }, session: { format: "opaque", id: "s2" } },
        events: { [SESSION_REVOKED_EVENT]: { event_timestamp: iat - 3 } },
      },
      "secevent+jwt",
    );
    expect(await verify(set, { issuer: "solo-session" })).toMatchObject({
      format: "caep",
      userId: "bob",
      sessionId: "s2",
      at: (iat - 3) * 1000,
    });
  });

  it("refuses hostile and malformed tokens with RFC 8935 codes", async () => {
    const cases: [string, () => Promise<unknown>, string][] = [
      ["another key", async () => verify(await sign(logoutClaims(), "logout+jwt", stranger.privateKey)), "invalid_key"],
      [
        "an unknown kid",
        async () => verify(await sign(logoutClaims(), "logout+jwt", signer.privateKey, "k9")),
        "invalid_key",
      ],
      ["another audience", async () => verify(await sign(logoutClaims({ aud: "billing" }))), "invalid_audience"],
      ["another issuer", async () => verify(await sign(logoutClaims()), { issuer: "elsewhere" }), "invalid_issuer"],
      ["a session token's typ", async () => verify(await sign(logoutClaims(), "session+jwt")), "invalid_request"],
      [
        "no typ",
        async () =>
          verify(
            await new SignJWT(logoutClaims()).setProtectedHeader({ alg: "EdDSA", kid: "k1" }).sign(signer.privateKey),
          ),
        "invalid_request",
      ],
      ["a nonce", async () => verify(await sign(logoutClaims({ nonce: "n" }))), "invalid_request"],
      ["no exp on a logout token", async () => verify(await sign(logoutClaims({ exp: undefined }))), "invalid_request"],
      [
        "an expired logout token",
        async () => verify(await sign(logoutClaims({ iat: iat - 600, exp: iat - 480 }))),
        "invalid_request",
      ],
      ["no events", async () => verify(await sign(logoutClaims({ events: undefined }))), "invalid_request"],
      [
        "events as an array",
        async () => verify(await sign(logoutClaims({ events: [BACKCHANNEL_LOGOUT_EVENT] }))),
        "invalid_request",
      ],
      [
        "another event",
        async () => verify(await sign(logoutClaims({ events: { "urn:other": {} } }))),
        "invalid_request",
      ],
      [
        "neither sub nor sid",
        async () => verify(await sign(logoutClaims({ sub: undefined, sid: undefined }))),
        "invalid_request",
      ],
      ["no jti", async () => verify(await sign(logoutClaims({ jti: undefined }))), "invalid_request"],
      [
        "an old SET",
        async () =>
          verify(
            await sign(
              {
                ...logoutClaims({ exp: undefined }),
                iat: iat - 3600,
                events: { [SESSION_REVOKED_EVENT]: {} },
                sub_id: { format: "opaque", id: "x" },
              },
              "secevent+jwt",
            ),
          ),
        "invalid_request",
      ],
      [
        "a SET without a subject",
        async () =>
          verify(
            await sign(
              {
                ...logoutClaims({ exp: undefined, sub: undefined, sid: undefined }),
                events: { [SESSION_REVOKED_EVENT]: {} },
              },
              "secevent+jwt",
            ),
          ),
        "invalid_request",
      ],
      [
        "alg none",
        async () =>
          verify(
            `${Buffer.from('{"alg":"none","typ":"logout+jwt"}').toString("base64url")}.${Buffer.from(JSON.stringify(logoutClaims())).toString("base64url")}.`,
          ),
        "invalid_key",
      ],
      ["garbage", async () => verify("not.a.jwt"), "invalid_request"],
      ["an oversized token", async () => verify("a".repeat(5000)), "invalid_request"],
      ["no token", async () => verify(undefined), "invalid_request"],
      [
        "a format not accepted",
        async () => verify(await sign(logoutClaims()), { formats: ["caep"] }),
        "invalid_request",
      ],
    ];
    for (const [name, attempt, code] of cases) expect([name, await refusal(attempt())]).toEqual([name, code]);
  });
});

describe("event tokens", () => {
  const end = { at: NOW, reason: "replaced" as const, by: null };
  const event = { receiver: "https://a.example/e", sessionId: "s1", userId: "alice", end };

  it("keep one jti per receiver and event across attempts", () => {
    expect(eventJti(event)).toBe(eventJti({ ...event }));
    expect(eventJti(event)).not.toBe(eventJti({ ...event, receiver: "https://b.example/e" }));
    expect(eventJti(event)).not.toBe(eventJti({ ...event, sessionId: "s2" }));
    const a = eventClaims("caep", event, { issuer: "i", audience: "a", now: NOW });
    const b = eventClaims("caep", event, { issuer: "i", audience: "a", now: NOW + 60_000 });
    expect(a.claims.jti).toBe(b.claims.jti);
    expect(b.claims.iat).toBe(a.claims.iat + 60);
  });

  it("say who ended the session in CAEP's terms", () => {
    const entity = (reason: "replaced" | "logout" | "revoked" | "expired" | "idle") => {
      const { claims } = eventClaims(
        "caep",
        { ...event, end: { ...end, reason } },
        { issuer: "i", audience: "a", now: NOW },
      );
      return (claims.events as Record<string, { initiating_entity: string }>)[SESSION_REVOKED_EVENT]?.initiating_entity;
    };
    expect(["replaced", "logout", "revoked", "expired", "idle"].map((r) => entity(r as "idle"))).toEqual([
      "policy",
      "user",
      "admin",
      "system",
      "system",
    ]);
  });
});

describe("receiver options", () => {
  const ok = { url: "https://a.example/e", audience: "a", format: "caep" as const };
  it("are validated with a TypeError naming the option", () => {
    expect(resolveReceivers([ok])[0]).toMatchObject({ id: "https://a.example/e", format: "caep" });
    for (const bad of [
      [{ ...ok, url: "ftp://a.example" }],
      [{ ...ok, url: "not a url" }],
      [{ ...ok, audience: "" }],
      [{ ...ok, format: "webhook" }],
      [{ ...ok, events: ["stolen"] }],
      [ok, ok],
      "nope",
    ]) {
      expect(() => resolveReceivers(bad as never)).toThrow(/options\.receivers/);
    }
    expect(() => resolveDelivery({ timeout: 10_000, leaseTime: 5000 })).toThrow(/leaseTime/);
    expect(() => resolveDelivery({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

describe("EventDeliverer", () => {
  it("retries with doubling, capped, jittered delays and dead-letters after the last attempt", async () => {
    let now = NOW;
    const store = new MemoryStore({ receivers: ["r"] });
    const outbox = store.outbox;
    if (!outbox) throw new Error("no outbox");
    const s = record("alice");
    await store.claim(s, newestWins);
    await store.end(s.id, { at: NOW, reason: "logout", by: null });
    const [receiver] = resolveReceivers([{ url: "http://127.0.0.1:9/e", audience: "a", format: "caep", id: "r" }]);
    if (!receiver) throw new Error("no receiver");
    let calls = 0;
    const deliverer = new EventDeliverer(outbox, [receiver], {
      ...resolveDelivery({ retryBase: 1000, retryMax: 8000, maxAttempts: 6 }),
      issuer: "i",
      node: "n",
      clock: () => now,
      random: () => 0, // the low end of the jitter: half the ceiling
      sign: async () => "token",
      fetch: async () => {
        calls++;
        return new Response(null, { status: 503 });
      },
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(await deliverer.pass()).toBe(1);
      await deliverer.idle();
      const [event] = await outbox.list({});
      if (!event) throw new Error("event lost");
      if (event.state === "dead") break;
      delays.push(event.nextAt - now);
      now = event.nextAt;
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(calls).toBe(6);
    expect(await outbox.list({ state: "dead" })).toMatchObject([{ attempts: 6, lastError: "http_503" }]);
    await deliverer.close();
    await store.close();
  });
});
