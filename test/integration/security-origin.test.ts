import { createServer } from "node:http";
import express from "express";
import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { call, handshakeError, login } from "../support/client.js";
import { engineRequest } from "../support/raw-http.js";
import { testResources } from "../support/resources.js";
import type { TestServer, TestServerOptions } from "../support/server.js";

// The Origin allowlist: the CSRF defence on cookie-authenticated state-changing requests, CORS
// for the allowlisted cross-origin frontends, and the Socket.IO handshake (WebSocket is not
// covered by CORS, so the server itself must refuse a foreign Origin).

const APP = "https://app.example.com";
const EVIL = "https://evil.example";

const resources = testResources();
const { socketFor, listen } = resources;

/** A test server that allows `APP` as a cross-origin frontend. */
function server(options: TestServerOptions = {}): Promise<TestServer> {
  return resources.server({ allowedOrigins: [APP], ...options });
}

const json = { "content-type": "application/json" };
const credentials = JSON.stringify({ username: "alice", password: "demo" });

async function cookieOf(url: string): Promise<string> {
  const res = await login(url);
  return (res.cookie as string).split(";")[0] as string;
}

describe("the CSRF defence on HTTP", () => {
  it("refuses login from a foreign or null Origin with 403 origin_not_allowed, before reading credentials", async () => {
    const srv = await server();
    for (const origin of [EVIL, "null", "http://127.0.0.1.evil.example", `${APP}.evil.example`, "file://"]) {
      const res = await call(srv.url, "/auth/login", null, {
        method: "POST",
        headers: { ...json, origin },
        body: credentials,
      });
      expect(res.status, origin).toBe(403);
      expect((res.body as ErrorBody).error, origin).toBe("origin_not_allowed");
      expect(res.headers.get("set-cookie"), origin).toBeNull();
    }
  });

  it("accepts login from the server's own origin, from an allowlisted origin, and from non-browser clients", async () => {
    const srv = await server();
    const own = srv.url; // http://127.0.0.1:<port>, as the Host header says
    for (const origin of [own, APP, APP.toUpperCase().replace("HTTPS", "https"), `${APP}:443`]) {
      const res = await call(srv.url, "/auth/login", null, {
        method: "POST",
        headers: { ...json, origin },
        body: credentials,
      });
      expect(res.status, origin).toBe(200);
    }
    const noOrigin = await call(srv.url, "/auth/login", null, { method: "POST", headers: json, body: credentials });
    expect(noOrigin.status).toBe(200);
  });

  it("refuses a request a browser marks as cross-site even when it carries no Origin", async () => {
    const srv = await server();
    const res = await call(srv.url, "/auth/login", null, {
      method: "POST",
      headers: { ...json, "sec-fetch-site": "cross-site" },
      body: credentials,
    });
    expect(res.status).toBe(403);
    expect((res.body as ErrorBody).error).toBe("origin_not_allowed");
  });

  it("refuses a cross-site logout with the cookie, and the session stays live", async () => {
    const srv = await server();
    const cookie = await cookieOf(srv.url);
    const forged = await call(srv.url, "/auth/logout", null, { method: "POST", headers: { cookie, origin: EVIL } });
    expect(forged.status).toBe(403);
    expect((forged.body as ErrorBody).error).toBe("origin_not_allowed");
    expect((await call(srv.url, "/auth/session", null, { headers: { cookie } })).status).toBe(200);
    const real = await call(srv.url, "/auth/logout", null, { method: "POST", headers: { cookie, origin: srv.url } });
    expect(real.status).toBe(204);
    expect((await call(srv.url, "/auth/session", null, { headers: { cookie } })).status).toBe(401);
  });

  it("refuses a cookie-authenticated state-changing API request from a foreign origin; bearer requests are not ambient", async () => {
    const srv = await server();
    const cookie = await cookieOf(srv.url);
    const forged = await call(srv.url, "/api/notes", null, { method: "POST", headers: { cookie, origin: EVIL } });
    expect(forged.status).toBe(403);
    expect((forged.body as ErrorBody).error).toBe("origin_not_allowed");
    const nullOrigin = await call(srv.url, "/api/notes", null, { method: "POST", headers: { cookie, origin: "null" } });
    expect(nullOrigin.status).toBe(403);
    const same = await call(srv.url, "/api/notes", null, { method: "POST", headers: { cookie, origin: srv.url } });
    expect(same.status).toBe(201);
    const listed = await call(srv.url, "/api/notes", null, { method: "POST", headers: { cookie, origin: APP } });
    expect(listed.status).toBe(201);
    // A bearer token is not sent by the browser on its own: no CSRF, so the origin does not matter.
    const { token } = await login(srv.url);
    const bearer = await call(srv.url, "/api/notes", token, { method: "POST", headers: { origin: EVIL } });
    expect(bearer.status).toBe(201);
  });
});

describe("CORS for allowlisted origins", () => {
  it("answers an allowlisted preflight on /auth/login and gives credentials-capable CORS headers", async () => {
    const srv = await server();
    const preflight = await call(srv.url, "/auth/login", null, {
      method: "OPTIONS",
      headers: {
        origin: APP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(APP);
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
    expect(preflight.headers.get("vary")).toContain("Origin");

    const res = await call(srv.url, "/auth/login", null, {
      method: "POST",
      headers: { ...json, origin: APP },
      body: credentials,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-expose-headers")).toContain("Retry-After");
  });

  it("gives a foreign origin no CORS headers, refuses its preflight, and never answers with *", async () => {
    const srv = await server();
    const preflight = await call(srv.url, "/auth/login", null, {
      method: "OPTIONS",
      headers: { origin: EVIL, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
    expect((preflight.body as ErrorBody).error).toBe("origin_not_allowed");
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const { token } = await login(srv.url);
    const read = await call(srv.url, "/auth/session", token, { headers: { origin: EVIL } });
    expect(read.headers.get("access-control-allow-origin")).toBeNull();
    expect(read.headers.get("vary")).toContain("Origin");
    // Same-origin requests need no CORS headers.
    const own = await call(srv.url, "/auth/session", token, { headers: { origin: srv.url } });
    expect(own.status).toBe(200);
    expect(own.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("solo.cors() gives the app's own API the same CORS", async () => {
    const srv = await server();
    const app = express();
    app.use("/api", srv.solo.cors({ methods: ["GET", "POST"] }), srv.solo.requireSession());
    app.get("/api/me", (req, res) => res.json({ user: req.solo?.userId }));
    const { url } = await listen(createServer(app));
    const preflight = await call(url, "/api/me", null, {
      method: "OPTIONS",
      headers: {
        origin: APP,
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, POST");
    const { token } = await login(srv.url);
    const res = await call(url, "/api/me", token, { headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    const foreign = await call(url, "/api/me", token, { headers: { origin: EVIL } });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the Socket.IO handshake", () => {
  it("refuses a hostile Origin and a null Origin before the upgrade, over WebSocket and long-polling", async () => {
    const srv = await server({ transports: ["websocket", "polling"] });
    const { token } = await login(srv.url);
    for (const origin of [EVIL, "null"]) {
      for (const transports of [["websocket"], ["polling"]]) {
        const refused = await handshakeError(srv.url, token, { extraHeaders: { origin }, transports });
        expect(refused.message, `${origin} ${transports}`).toMatch(/websocket error|xhr poll error/);
      }
      const raw = await engineRequest(srv.url, "transport=polling", { headers: { origin } });
      expect(raw.status).toBe(403);
      expect(JSON.parse(raw.body)).toEqual({ code: 4, message: "origin_not_allowed" });
    }
  });

  it("accepts the server's own origin, an allowlisted origin, and no Origin (non-browser clients)", async () => {
    const srv = await server({ transports: ["websocket", "polling"] });
    const { token } = await login(srv.url);
    const headerSets: Record<string, string>[] = [{ origin: srv.url }, { origin: APP }, {}];
    for (const extraHeaders of headerSets) {
      const socket = await socketFor(srv.url, token, { extraHeaders });
      expect(socket.connected).toBe(true);
      socket.close();
    }
    const raw = await engineRequest(srv.url, "transport=polling", { headers: { origin: APP } });
    expect(raw.status).toBe(200);
    expect(raw.headers["access-control-allow-origin"]).toBe(APP);
    expect(raw.headers["access-control-allow-credentials"]).toBe("true");
  });

  it("refuses a handshake without credentials with missing_token", async () => {
    const srv = await server();
    const refused = await handshakeError(srv.url, null, { extraHeaders: { origin: srv.url } });
    expect(refused.message).toBe("missing_token");
    expect((refused as Error & { data?: { code: string } }).data?.code).toBe("missing_token");
  });
});

describe("SOLO_ALLOWED_ORIGINS", () => {
  it("sets the allowlist of the standalone server; its own origin stays allowed", async () => {
    const standalone = await resources.standalone(
      { SOLO_ALLOWED_ORIGINS: `${APP}, https://admin.example.com` },
      { demoDir: resources.dir() },
    );
    for (const origin of [APP, "https://admin.example.com", standalone.url]) {
      const res = await call(standalone.url, "/auth/login", null, {
        method: "POST",
        headers: { ...json, origin },
        body: credentials,
      });
      expect(res.status, origin).toBe(200);
    }
    const evil = await call(standalone.url, "/auth/login", null, {
      method: "POST",
      headers: { ...json, origin: EVIL },
      body: credentials,
    });
    expect(evil.status).toBe(403);
    const { token } = await login(standalone.url);
    expect((await handshakeError(standalone.url, token, { extraHeaders: { origin: EVIL } })).message).toBe(
      "websocket error",
    );
  });
});
