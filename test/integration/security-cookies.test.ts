import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody, LoginResponse } from "../../protocol/index.js";
import { call, handshakeError, login } from "../support/client.js";
import { testResources } from "../support/resources.js";
import type { TestServer, TestServerOptions } from "../support/server.js";

// Cookies: HttpOnly, SameSite, Path=/, no Domain; under https Secure with the __Host- prefix
// (a real TLS server with a certificate made for the test); cleared on logout and on a refused
// session. Behind a proxy, X-Forwarded-Proto counts only with trustProxy.

const { server, socketFor } = testResources();
const shared = testResources("all");

let cert: string;
let key: string;

beforeAll(() => {
  const certDir = shared.dir("solo-tls-");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(certDir, "key.pem"),
      "-out",
      join(certDir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  cert = readFileSync(join(certDir, "cert.pem"), "utf8");
  key = readFileSync(join(certDir, "key.pem"), "utf8");
});

/** A test server on https with the test's certificate. */
function startTls(options: TestServerOptions = {}): Promise<TestServer> {
  return server({ ...options, tls: { cert, key } });
}

interface TlsAnswer {
  status: number;
  body: unknown;
  cookies: string[];
}

/** An https request trusting the test certificate (fetch cannot be given a CA). */
function tls(
  url: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<TlsAnswer>((resolve, reject) => {
    const req = httpsRequest(
      `${url}${path}`,
      { method: init.method ?? "GET", headers: init.headers, ca: cert },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as unknown) : null,
            cookies: res.headers["set-cookie"] ?? [],
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

const loginBody = JSON.stringify({ username: "alice", password: "demo" });
const jsonHeaders = { "content-type": "application/json" };

async function tlsLogin(url: string): Promise<{ body: LoginResponse; cookie: string; setCookie: string }> {
  const res = await tls(url, "/auth/login", { method: "POST", headers: jsonHeaders, body: loginBody });
  expect(res.status).toBe(200);
  const setCookie = res.cookies[0] as string;
  return { body: res.body as LoginResponse, cookie: setCookie.split(";")[0] as string, setCookie };
}

describe("the session cookie under https", () => {
  it("is __Host-prefixed, Secure, HttpOnly, SameSite=Lax, Path=/, host-only, and lives as long as the session", async () => {
    const srv = await startTls();
    const { body, setCookie } = await tlsLogin(srv.url);
    expect(setCookie).toMatch(
      /^__Host-solo_session=[A-Za-z0-9_.-]+; Max-Age=\d+; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(setCookie).not.toMatch(/Domain=/i);
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
    const lifetime = (Date.parse(body.session.expiresAt) - Date.parse(body.session.createdAt)) / 1000;
    expect(Math.abs(maxAge - lifetime)).toBeLessThanOrEqual(1);
  });

  it("authenticates HTTP and the WebSocket handshake; an unprefixed cookie is not read under https", async () => {
    const srv = await startTls();
    const { body, cookie } = await tlsLogin(srv.url);
    const session = await tls(srv.url, "/auth/session", { headers: { cookie } });
    expect(session.status).toBe(200);
    const socket = await socketFor(srv.url, null, { extraHeaders: { cookie }, ca: cert });
    expect(socket.connected).toBe(true);
    // The same token under the plain name (as a sibling subdomain could plant it) is not read.
    const planted = `solo_session=${body.token}`;
    const refused = await tls(srv.url, "/auth/session", { headers: { cookie: planted } });
    expect(refused.status).toBe(401);
    expect((refused.body as ErrorBody).error).toBe("missing_token");
    const socketRefused = await handshakeError(srv.url, null, { extraHeaders: { cookie: planted }, ca: cert });
    expect(socketRefused.message).toBe("missing_token");
  });

  it("is cleared on logout and when the session was replaced", async () => {
    const srv = await startTls();
    const first = await tlsLogin(srv.url);
    const out = await tls(srv.url, "/auth/logout", { method: "POST", headers: { cookie: first.cookie } });
    expect(out.status).toBe(204);
    expect(out.cookies).toContainEqual(
      expect.stringMatching(
        /^__Host-solo_session=; Path=\/; Expires=Thu, 01 Jan 1970 [^;]+; HttpOnly; Secure; SameSite=Lax$/,
      ),
    );

    const old = await tlsLogin(srv.url);
    await tlsLogin(srv.url); // replaces it
    const refused = await tls(srv.url, "/auth/session", { headers: { cookie: old.cookie } });
    expect(refused.status).toBe(401);
    expect((refused.body as ErrorBody).error).toBe("session_replaced");
    expect(refused.cookies).toContainEqual(
      expect.stringMatching(/^__Host-solo_session=; Path=\/; Expires=Thu, 01 Jan 1970/),
    );
    const api = await tls(srv.url, "/api/notes", { headers: { cookie: old.cookie } });
    expect(api.status).toBe(401);
    expect(api.cookies).toContainEqual(expect.stringMatching(/^__Host-solo_session=; /));
  });
});

describe("the session cookie over plain http", () => {
  it("has no Secure flag and no prefix, and is cleared on an invalid or expired token", async () => {
    const srv = await server();
    const res = await login(srv.url);
    expect(res.cookie).toMatch(/^solo_session=[^;]+; Max-Age=\d+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    const bad = await call(srv.url, "/auth/session", null, { headers: { cookie: "solo_session=not-a-token" } });
    expect((bad.body as ErrorBody).error).toBe("invalid_token");
    expect(bad.headers.get("set-cookie")).toMatch(/^solo_session=; Path=\/; Expires=Thu, 01 Jan 1970/);
    // A wrong password says nothing about the cookie the browser holds: it is left alone.
    const wrong = await call(srv.url, "/auth/login", null, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: (res.cookie as string).split(";")[0] as string },
      body: JSON.stringify({ username: "alice", password: "wrong" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("follows X-Forwarded-Proto only with trustProxy", async () => {
    const trusting = await server({ trustProxy: true });
    const plain = await server();
    const behindProxy = await login(trusting.url, undefined, { "x-forwarded-proto": "https" });
    expect(behindProxy.cookie).toMatch(/^__Host-solo_session=[^;]+;.*; HttpOnly; Secure; SameSite=Lax$/);
    const direct = await login(trusting.url);
    expect(direct.cookie).toMatch(/^solo_session=/);
    const spoofed = await login(plain.url, undefined, { "x-forwarded-proto": "https" });
    expect(spoofed.cookie).toMatch(/^solo_session=[^;]+;/);
    expect(spoofed.cookie).not.toMatch(/Secure/);
  });

  it("takes SameSite=Strict and another name when configured", async () => {
    const srv = await server({ cookie: { sameSite: "strict", name: "sid" } });
    const res = await login(srv.url);
    expect(res.cookie).toMatch(/^sid=[^;]+;.*; HttpOnly; SameSite=Strict$/);
    const out = await call(srv.url, "/auth/logout", res.token, { method: "POST" });
    expect(out.headers.get("set-cookie")).toMatch(
      /^sid=; Path=\/; Expires=Thu, 01 Jan 1970 [^;]+; HttpOnly; SameSite=Strict$/,
    );
  });
});
