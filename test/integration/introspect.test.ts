import { createRemoteJWKSet, jwtVerify } from "jose";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import type { ErrorBody, IntrospectionResponse } from "../../protocol/index.js";
import { createSoloServer } from "../../server/index.js";
import { readEnv } from "../../standalone/env.js";
import { call, login, UA } from "../support/client.js";
import { HOUR, manualClock } from "../support/clock.js";
import { adminToken, endingEvent } from "../support/ops.js";
import { testResources } from "../support/resources.js";
import type { TestServer, TestServerOptions } from "../support/server.js";

const SECRET = "s3rvice-secret-for-tests-0123456789";

const resources = testResources();

/** A test server that accepts `SECRET` at /auth/introspect. */
function server(options: TestServerOptions = {}): Promise<TestServer> {
  return resources.server({ introspectSecret: SECRET, ...options });
}

/** `POST /auth/introspect` as RFC 7662 has it: a form body, the caller's credential in Authorization. */
function introspect(url: string, token: string, caller: string | null = SECRET) {
  return call(url, "/auth/introspect", caller, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
  });
}

describe("POST /auth/introspect", () => {
  it("answers a live session with its claims, and just active:false once it is replaced", async () => {
    const srv = await server();
    const first = await login(srv.url);
    const live = await introspect(srv.url, first.token);
    expect(live.status).toBe(200);
    expect(live.headers.get("cache-control")).toBe("no-store");
    const body = live.body as Extract<IntrospectionResponse, { active: true }>;
    expect(body).toMatchObject({
      active: true,
      sub: "alice",
      sid: first.session.id,
      jti: first.session.id,
      iss: "solo-session",
      aud: "solo-session",
      token_type: "session+jwt",
      roles: [],
    });
    expect(body.exp).toBe(Math.floor(Date.parse(first.session.expiresAt) / 1000));
    expect(body.iat).toBe(Math.floor(Date.parse(first.session.createdAt) / 1000));

    await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
    const replaced = await introspect(srv.url, first.token);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ active: false });
  });

  it("answers active:false for revoked, logged-out, expired, idle and malformed tokens", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, maxAge: 2 * HOUR, idleTimeout: HOUR });
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    expect(await srv.solo.revokeSession(bob.session.id)).toBe(true);
    expect((await introspect(srv.url, bob.token)).body).toEqual({ active: false });

    const carol = await login(srv.url, { username: "carol", password: "demo" });
    expect((await call(srv.url, "/auth/logout", carol.token, { method: "POST" })).status).toBe(204);
    expect((await introspect(srv.url, carol.token)).body).toEqual({ active: false });

    const alice = await login(srv.url);
    expect((await introspect(srv.url, alice.token)).body).toMatchObject({ active: true });
    clock.advance(HOUR); // idle for the whole idle timeout
    expect((await introspect(srv.url, alice.token)).body).toEqual({ active: false });
    clock.advance(HOUR); // and past its lifetime
    expect((await introspect(srv.url, alice.token)).body).toEqual({ active: false });

    for (const junk of ["junk", "a.b.c", "x".repeat(5000)]) {
      const res = await introspect(srv.url, junk);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    }
  });

  it("has no side effects: no activity recorded, no notice marked delivered", async () => {
    const clock = manualClock();
    const srv = await server({ clock: clock.now, idleTimeout: HOUR, touchInterval: 1000 });
    const admin = await adminToken(srv.url);
    const first = await login(srv.url);
    const lastSeen = (await srv.solo.store.get(first.session.id))?.lastSeenAt;
    clock.advance(10 * 60_000);
    expect((await introspect(srv.url, first.token)).body).toMatchObject({ active: true });
    expect((await srv.solo.store.get(first.session.id))?.lastSeenAt).toBe(lastSeen);

    await login(srv.url);
    expect((await introspect(srv.url, first.token)).body).toEqual({ active: false });
    await vi.waitFor(async () => expect((await endingEvent(srv.url, admin, first.session.id))?.kind).toBe("replaced"));
    expect((await endingEvent(srv.url, admin, first.session.id))?.delivery).toBe("pending");
  });

  it("accepts an admin's session token as the caller, and JSON bodies", async () => {
    const srv = await server({ introspectSecret: undefined });
    const admin = await adminToken(srv.url);
    const alice = await login(srv.url);
    expect((await introspect(srv.url, alice.token, admin)).body).toMatchObject({ active: true, sub: "alice" });
    const json = await call(srv.url, "/auth/introspect", admin, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: alice.token }),
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ active: true, sid: alice.session.id });
    // Without a configured secret, no secret is accepted.
    const guessed = await introspect(srv.url, alice.token, SECRET);
    expect(guessed.status).toBe(401);
    expect((guessed.body as ErrorBody).error).toBe("invalid_token");
  });

  it("refuses unauthenticated callers with 401 and a code, non-admin callers with 403 forbidden", async () => {
    const srv = await server();
    const alice = await login(srv.url);
    const none = await introspect(srv.url, alice.token, null);
    expect(none.status).toBe(401);
    expect((none.body as ErrorBody).error).toBe("missing_token");
    const wrong = await introspect(srv.url, alice.token, `${SECRET}x`);
    expect(wrong.status).toBe(401);
    expect((wrong.body as ErrorBody).error).toBe("invalid_token");
    const basic = await call(srv.url, "/auth/introspect", null, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`svc:${SECRET}`).toString("base64")}` },
      body: new URLSearchParams({ token: alice.token }),
    });
    expect(basic.status).toBe(401);
    // A present Authorization header that is not `Bearer <credential>` is malformed, not absent.
    expect((basic.body as ErrorBody).error).toBe("invalid_token");
    const notAdmin = await introspect(srv.url, alice.token, alice.token);
    expect(notAdmin.status).toBe(403);
    expect((notAdmin.body as ErrorBody).error).toBe("forbidden");
  });

  it("answers a request without a token with 400 invalid_request", async () => {
    const srv = await server();
    for (const [body, type] of [
      ["", "application/x-www-form-urlencoded"],
      ["token=", "application/x-www-form-urlencoded"],
      ['{"token": 5}', "application/json"],
      ["token=abc", "text/plain"],
      ["{", "application/json"],
    ] as const) {
      const res = await call(srv.url, "/auth/introspect", SECRET, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      expect(res.status, body).toBe(400);
      expect((res.body as ErrorBody).error, body).toBe("invalid_request");
    }
    const big = await call(srv.url, "/auth/introspect", SECRET, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${"x".repeat(20_000)}`,
    });
    expect(big.status).toBe(413);
    expect((big.body as ErrorBody).error).toBe("payload_too_large");
  });
});

describe("verifying signatures with /auth/jwks.json", () => {
  it("lets another service check a token's signature and claims without this package", async () => {
    const srv = await server();
    const alice = await login(srv.url);
    const jwks = createRemoteJWKSet(new URL(`${srv.url}/auth/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(alice.token, jwks, {
      issuer: "solo-session",
      audience: "solo-session",
      typ: "session+jwt",
    });
    expect(payload.sub).toBe("alice");
    expect(payload.sid).toBe(alice.session.id);
    expect(protectedHeader.alg).toBe("EdDSA");
    await expect(jwtVerify(`${alice.token.slice(0, -4)}AAAA`, jwks)).rejects.toThrow();
  });
});

describe("the introspection secret", () => {
  it("must be at least 16 characters, as an option and in the environment", async () => {
    expect(() =>
      createSoloServer({
        authenticate: () => null,
        store: "memory",
        introspectSecret: "short",
        logger: pino({ level: "silent" }),
      }),
    ).toThrow(TypeError);
    expect(() => readEnv({ SOLO_INTROSPECT_SECRET: "short" })).toThrow(TypeError);
    expect(readEnv({ SOLO_INTROSPECT_SECRET: SECRET }).options.introspectSecret).toBe(SECRET);
  });
});
