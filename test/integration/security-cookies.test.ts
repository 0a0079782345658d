import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody, LoginResponse } from "../../protocol/index.js";
import { createSoloServer, type SoloServer, type SoloServerOptions } from "../../server/index.js";
import { DEMO_ACCOUNTS, DemoUsers } from "../../standalone/users.js";
import { type ClientSocket, call, connect, handshakeError, login } from "../support/client.js";
import { startTestServer, tempDir } from "../support/server.js";

// Cookies: HttpOnly, SameSite, Path=/, no Domain; under https Secure with the __Host- prefix
// (a real TLS server with a certificate made for the test); cleared on logout and on a refused
// session. Behind a proxy, X-Forwarded-Proto counts only with trustProxy.

let certDir: string;
let cert: string;
let key: string;

beforeAll(() => {
  certDir = tempDir("solo-tls-");
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
afterAll(() => {
  rmSync(certDir, { recursive: true, force: true });
});

interface TlsServer {
  url: string;
  solo: SoloServer;
  close(): Promise<void>;
}

async function startTls(options: Partial<SoloServerOptions> = {}): Promise<TlsServer> {
  const dataDir = tempDir();
  const users = await DemoUsers.create(DEMO_ACCOUNTS);
  const solo = createSoloServer({
    authenticate: users.authenticate,
    logger: pino({ level: "silent" }),
    dataDir,
    ...options,
  });
  const app = express();
  app.use("/auth", solo.router);
  app.get("/api/notes", solo.requireSession(), (req, res) => res.json({ user: req.solo?.userId }));
  app.use(solo.errorHandler());
  const server: HttpsServer = createHttpsServer({ cert, key }, app);
  solo.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    solo,
    async close() {
      await solo.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
    try {
      const { body, setCookie } = await tlsLogin(srv.url);
      expect(setCookie).toMatch(
        /^__Host-solo_session=[A-Za-z0-9_.-]+; Max-Age=\d+; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/,
      );
      expect(setCookie).not.toMatch(/Domain=/i);
      const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
      const lifetime = (Date.parse(body.session.expiresAt) - Date.parse(body.session.createdAt)) / 1000;
      expect(Math.abs(maxAge - lifetime)).toBeLessThanOrEqual(1);
    } finally {
      await srv.close();
    }
  });

  it("authenticates HTTP and the WebSocket handshake; an unprefixed cookie is not read under https", async () => {
    const srv = await startTls();
    const sockets: ClientSocket[] = [];
    try {
      const { body, cookie } = await tlsLogin(srv.url);
      const session = await tls(srv.url, "/auth/session", { headers: { cookie } });
      expect(session.status).toBe(200);
      const socket = await connect(srv.url, null, { extraHeaders: { cookie }, ca: cert });
      sockets.push(socket);
      expect(socket.connected).toBe(true);
      // The same token under the plain name (as a sibling subdomain could plant it) is not read.
      const planted = `solo_session=${body.token}`;
      const refused = await tls(srv.url, "/auth/session", { headers: { cookie: planted } });
      expect(refused.status).toBe(401);
      expect((refused.body as ErrorBody).error).toBe("missing_token");
      const socketRefused = await handshakeError(srv.url, null, { extraHeaders: { cookie: planted }, ca: cert });
      expect(socketRefused.message).toBe("missing_token");
    } finally {
      for (const s of sockets) s.close();
      await srv.close();
    }
  });

  it("is cleared on logout and when the session was replaced", async () => {
    const srv = await startTls();
    try {
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
    } finally {
      await srv.close();
    }
  });
});

describe("the session cookie over plain http", () => {
  it("has no Secure flag and no prefix, and is cleared on an invalid or expired token", async () => {
    const srv = await startTestServer();
    try {
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
    } finally {
      await srv.close({ removeData: true });
    }
  });

  it("follows X-Forwarded-Proto only with trustProxy", async () => {
    const trusting = await startTestServer({ trustProxy: true });
    const plain = await startTestServer();
    try {
      const behindProxy = await login(trusting.url, undefined, { "x-forwarded-proto": "https" });
      expect(behindProxy.cookie).toMatch(/^__Host-solo_session=[^;]+;.*; HttpOnly; Secure; SameSite=Lax$/);
      const direct = await login(trusting.url);
      expect(direct.cookie).toMatch(/^solo_session=/);
      const spoofed = await login(plain.url, undefined, { "x-forwarded-proto": "https" });
      expect(spoofed.cookie).toMatch(/^solo_session=[^;]+;/);
      expect(spoofed.cookie).not.toMatch(/Secure/);
    } finally {
      await trusting.close({ removeData: true });
      await plain.close({ removeData: true });
    }
  });

  it("takes SameSite=Strict and another name when configured", async () => {
    const srv = await startTestServer({ cookie: { sameSite: "strict", name: "sid" } });
    try {
      const res = await login(srv.url);
      expect(res.cookie).toMatch(/^sid=[^;]+;.*; HttpOnly; SameSite=Strict$/);
      const out = await call(srv.url, "/auth/logout", res.token, { method: "POST" });
      expect(out.headers.get("set-cookie")).toMatch(
        /^sid=; Path=\/; Expires=Thu, 01 Jan 1970 [^;]+; HttpOnly; SameSite=Strict$/,
      );
    } finally {
      await srv.close({ removeData: true });
    }
  });
});
