import { createServer } from "node:http";
import express from "express";
import { pino } from "pino";
import { Server } from "socket.io";
import { io, Manager } from "socket.io-client";
import { describe, expect, it, vi } from "vitest";
import type { ConnectErrorData, ErrorBody } from "../../protocol/index.js";
import { createSoloServer } from "../../server/index.js";
import { call, handshakeError, login } from "../support/client.js";
import { adminToken, connectAdmin } from "../support/ops.js";
import { engineRequest, engineUpgrade, type RawAnswer, rawRequest } from "../support/raw-http.js";
import { testResources } from "../support/resources.js";

// The Socket.IO server under an outsider's attacks (issue 12, points 1, 2, 3, 10): JSONP and
// long-polling requests carrying the victim's cookie, every request of a connection (not only
// the first), every namespace, the default namespace, idle connections, connection floods,
// and DNS rebinding. Everything is asserted on codes, over raw HTTP where a browser would be
// the attacker (test/e2e/cross-origin.test.ts runs the same attack in Chromium).

const { server, track, socketFor, listen, standalone, dir } = testResources();

const EVIL = "https://evil.example";
const POLLING = { transports: ["websocket", "polling"] } as const;
const generous = { points: 10_000, duration: 60_000 };

/** A JSON login sent raw, with exactly these headers. */
function rawLogin(url: string, headers: Record<string, string>): Promise<RawAnswer> {
  return rawRequest(url, "/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ username: "alice", password: "demo" }),
  });
}

/** Opens a long-polling connection as a non-browser client would; returns its sid. */
async function openPolling(url: string): Promise<string> {
  const open = await engineRequest(url, "transport=polling");
  expect(open.status).toBe(200);
  return (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
}

/** The solo-session code of an Engine.IO refusal (long-polling JSON or upgrade body). */
function refusalCode(answer: Pick<RawAnswer, "body">): string {
  return answer.body.startsWith("{") ? (JSON.parse(answer.body) as { message: string }).message : answer.body;
}

const cookieOf = (set: string | null) => (set as string).split(";")[0] as string;

/** An Engine.IO connection with no namespace yet, opened by the real client over WebSocket. */
async function rawConnection(url: string, headers: Record<string, string> = {}) {
  const manager = new Manager(url, {
    transports: ["websocket"],
    reconnection: false,
    autoConnect: false,
    extraHeaders: headers,
  });
  await new Promise<void>((resolve, reject) => manager.open((error) => (error ? reject(error) : resolve())));
  const engineSocket = manager.engine;
  const replies: string[] = [];
  engineSocket.on("message", (data) => {
    if (typeof data === "string") replies.push(data);
  });
  const closed = new Promise<string>((resolve) => engineSocket.once("close", (reason) => resolve(reason)));
  track({ close: () => engineSocket.close() });
  return { manager, engine: engineSocket, replies, closed };
}

describe("point 1: JSONP and cross-site long-polling", () => {
  it("is WebSocket-only by default: a long-polling handshake is refused, the WebSocket handshake works", async () => {
    const srv = await server();
    const polling = await engineRequest(srv.url, "transport=polling");
    expect(polling.status).toBe(400);
    expect(JSON.parse(polling.body)).toMatchObject({ code: 0 }); // Engine.IO's "Transport unknown"
    expect((await handshakeError(srv.url, null, { transports: ["polling"] })).message).toBe("xhr poll error");
    expect((await engineUpgrade(srv.url)).status).toBe(101);
  });

  it("refuses JSONP (j= in the query), on the handshake and on a live connection, with or without polling", async () => {
    for (const transports of [undefined, POLLING.transports]) {
      const srv = await server(transports ? { transports } : {});
      const jsonp = await engineRequest(srv.url, "transport=polling&j=0");
      expect(jsonp.status, String(transports)).toBe(400);
      expect(refusalCode(jsonp), String(transports)).toBe("invalid_request");
    }
    const srv = await server(POLLING);
    const sid = await openPolling(srv.url);
    const post = await engineRequest(srv.url, `transport=polling&sid=${sid}&j=0`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "d=40/admin,",
    });
    expect(post.status).toBe(400);
    expect(refusalCode(post)).toBe("invalid_request");
  });

  it("refuses a cookie-carrying handshake that a browser marks same-site or cross-site without an allowed Origin", async () => {
    const srv = await server(POLLING);
    const admin = await login(srv.url, { username: "admin", password: "admin" });
    const victim = await socketFor(srv.url, admin.token);
    const cookie = cookieOf(admin.cookie);
    for (const site of ["same-site", "cross-site"]) {
      const headers = { cookie, "sec-fetch-site": site };
      const polling = await engineRequest(srv.url, "transport=polling", { headers });
      expect(polling.status, site).toBe(403);
      expect(refusalCode(polling), site).toBe("origin_not_allowed");
      const ws = await engineUpgrade(srv.url, "", headers);
      expect(ws.status, site).toBe(403);
      expect(refusalCode(ws), site).toBe("origin_not_allowed");
    }
    // The page's own requests (same-origin) and clients that are not browsers still pass.
    const allowed: Record<string, string>[] = [
      { cookie, "sec-fetch-site": "same-origin" },
      { cookie },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of allowed) {
      expect((await engineRequest(srv.url, "transport=polling", { headers })).status, JSON.stringify(headers)).toBe(
        200,
      );
    }
    expect(
      (await engineUpgrade(srv.url, "", { cookie, origin: srv.url, "sec-fetch-site": "same-origin" })).status,
    ).toBe(101);
    // None of it touched the victim's own socket.
    expect((await call(srv.url, "/auth/session", admin.token)).status).toBe(200);
    expect(victim.connected).toBe(true);
  });

  it("checks every request of a connection: a long-polling GET or POST carrying a sid, and the upgrade", async () => {
    const srv = await server(POLLING);
    const admin = await login(srv.url, { username: "admin", password: "admin" });
    const cookie = cookieOf(admin.cookie);
    const sid = await openPolling(srv.url);
    const join = { method: "POST", headers: { "content-type": "text/plain;charset=UTF-8" }, body: "40/admin," };
    const attacks: [string, Promise<RawAnswer>][] = [
      ["GET, foreign Origin", engineRequest(srv.url, `transport=polling&sid=${sid}`, { headers: { origin: EVIL } })],
      [
        "POST, foreign Origin",
        engineRequest(srv.url, `transport=polling&sid=${sid}`, { ...join, headers: { ...join.headers, origin: EVIL } }),
      ],
      [
        "POST, same-site with the cookie",
        engineRequest(srv.url, `transport=polling&sid=${sid}`, {
          ...join,
          headers: { ...join.headers, cookie, "sec-fetch-site": "same-site" },
        }),
      ],
      [
        "POST, null Origin",
        engineRequest(srv.url, `transport=polling&sid=${sid}`, {
          ...join,
          headers: { ...join.headers, origin: "null" },
        }),
      ],
      ["upgrade, foreign Origin", engineUpgrade(srv.url, `&sid=${sid}`, { origin: EVIL })],
      [
        "upgrade, same-site with the cookie",
        engineUpgrade(srv.url, `&sid=${sid}`, { cookie, "sec-fetch-site": "same-site" }),
      ],
    ];
    for (const [name, answer] of attacks) {
      const { status, body } = await answer;
      expect(status, name).toBe(403);
      expect(refusalCode({ body }), name).toBe("origin_not_allowed");
    }
    // The connection itself is untouched: its owner's own request still goes through.
    const own = await engineRequest(srv.url, `transport=polling&sid=${sid}`, { ...join, body: "40/session,{}" });
    expect(own).toMatchObject({ status: 200, body: "ok" });
  });

  it("applies the same rule to cookie-authenticated HTTP requests (one check for both)", async () => {
    const srv = await server();
    const cookie = cookieOf((await login(srv.url)).cookie);
    const sameSite = await call(srv.url, "/api/notes", null, {
      method: "POST",
      headers: { cookie, "sec-fetch-site": "same-site" },
    });
    expect(sameSite.status).toBe(403);
    expect((sameSite.body as ErrorBody).error).toBe("origin_not_allowed");
    const sameOrigin = await call(srv.url, "/api/notes", null, {
      method: "POST",
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    expect(sameOrigin.status).toBe(201);
    // A non-browser client (no Origin, no Sec-Fetch-Site) keeps working with its bearer token.
    const { token } = await login(srv.url, { username: "bob", password: "demo" });
    expect((await call(srv.url, "/api/notes", token, { method: "POST" })).status).toBe(201);
  });
});

describe("point 2: one handshake for every namespace", () => {
  it("counts every /admin connect over one connection against the address: bad tokens get rate_limited past the limit", async () => {
    const srv = await server({ rateLimit: { handshakePerIp: { points: 5, duration: 60_000 } } });
    const conn = await rawConnection(srv.url);
    const forged = "eyJhbGciOiJFZERTQSIsInR5cCI6InNlc3Npb24rand0In0.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";
    for (let i = 0; i < 10; i++) conn.engine.write(`0/admin,${JSON.stringify({ token: forged })}`);
    await vi.waitFor(() => expect(conn.replies).toHaveLength(10));
    const codes = conn.replies.map((r) => {
      expect(r.startsWith("4/admin,")).toBe(true);
      return (JSON.parse(r.slice("4/admin,".length)) as { data: ConnectErrorData }).data.code;
    });
    // The engine handshake paid 1 of the 5 points; the first namespace connect rides on it.
    // (Refusals by the limit come back before the token checks finish: count, not order.)
    expect(codes.filter((c) => c === "invalid_token")).toHaveLength(5);
    expect(codes.filter((c) => c === "rate_limited")).toHaveLength(5);
  });

  it("applies the per-session limit, the origin check and the token rules to /admin as to /session", async () => {
    const srv = await server({
      rateLimit: { handshakePerIp: generous, handshakePerSession: { points: 2, duration: 60_000 } },
    });
    const token = await adminToken(srv.url);
    track(await connectAdmin(srv.url, token));
    await socketFor(srv.url, token); // /session counts for the same session
    const flooded = await connectAdmin(srv.url, token).catch((error: Error & { data?: ConnectErrorData }) => error);
    expect((flooded as Error & { data?: ConnectErrorData }).data?.code).toBe("too_many_connections");

    const numeric = io(`${srv.url}/admin`, {
      auth: { token: 42 },
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    track(numeric);
    const refusedNumeric = await new Promise<Error & { data?: ConnectErrorData }>((resolve) =>
      numeric.once("connect_error", resolve),
    );
    expect(refusedNumeric.message).toBe("invalid_token");
    expect(refusedNumeric.data?.code).toBe("invalid_token");
  });

  it("checks the origin in the namespace handshake too, for /admin as for /session (an app's own Socket.IO server)", async () => {
    const solo = createSoloServer({
      authenticate: (c) => (c.username === "admin" ? { userId: "admin", roles: ["admin"] } : null),
      store: "memory",
      logger: pino({ level: "silent" }),
    });
    const app = express();
    app.use("/auth", solo.router);
    const http = createServer(app);
    const ownIo = new Server(http); // the app's engine: no solo-session guard in front of it
    solo.attach(ownIo);
    const { url } = await listen(http);
    track(ownIo);
    track(solo);
    const token = await adminToken(url);
    for (const nsp of ["/admin", "/session"]) {
      const socket = io(`${url}${nsp}`, {
        auth: { token },
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
        extraHeaders: { origin: EVIL },
      });
      track(socket);
      const refused = await new Promise<Error & { data?: ConnectErrorData }>((resolve) =>
        socket.once("connect_error", resolve),
      );
      expect(refused.message, nsp).toBe("origin_not_allowed");
      expect(refused.data?.code, nsp).toBe("origin_not_allowed");
    }
  });
});

describe("point 3: the default namespace, idle connections, open connections per address", () => {
  it("refuses the default namespace / to everyone, with a valid session too", async () => {
    const srv = await server();
    const { token } = await login(srv.url);
    for (const auth of [{}, { token }]) {
      const root = io(srv.url, { auth, transports: ["websocket"], reconnection: false, forceNew: true });
      track(root);
      const refused = await new Promise<Error & { data?: ConnectErrorData }>((resolve) =>
        root.once("connect_error", resolve),
      );
      expect(refused.message).toBe("forbidden");
      expect(refused.data?.code).toBe("forbidden");
    }
  });

  it("closes a connection that joined no namespace, only /, or left its last one within handshakeTimeout; a joined one stays", async () => {
    const srv = await server({ handshakeTimeout: 150 });
    const { token } = await login(srv.url);
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    const joined = await socketFor(srv.url, bob.token);

    const onlyRoot = await rawConnection(srv.url);
    onlyRoot.engine.write("0");
    await vi.waitFor(() => expect(onlyRoot.replies.some((r) => r.startsWith("4"))).toBe(true));
    const left = await rawConnection(srv.url);
    left.engine.write(`0/session,${JSON.stringify({ token })}`);
    await vi.waitFor(() => expect(left.replies.some((r) => r.startsWith("0/session,"))).toBe(true));
    left.engine.write("1/session,"); // leaves the namespace, keeps the connection
    const nothing = await rawConnection(srv.url);

    await expect(onlyRoot.closed).resolves.toMatch(/transport close/);
    await expect(left.closed).resolves.toMatch(/transport close/);
    await expect(nothing.closed).resolves.toMatch(/transport close/);
    // Opened before the idle ones and closed after them all: still connected.
    expect(joined.connected).toBe(true);
  });

  it("caps open connections per address with too_many_connections, releases a place on close, other addresses unaffected", async () => {
    const srv = await server({
      trustProxy: true,
      ...POLLING,
      rateLimit: { handshakePerIp: generous, connectionsPerIp: 3 },
    });
    const flooder = { "x-forwarded-for": "203.0.113.60" };
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await rawConnection(srv.url, flooder));
    const ws = await engineUpgrade(srv.url, "", flooder);
    expect(ws).toMatchObject({ status: 400, body: "too_many_connections" });
    const polling = await engineRequest(srv.url, "transport=polling", { headers: flooder });
    expect(polling.status).toBe(403);
    expect(refusalCode(polling)).toBe("too_many_connections");
    // Another address connects; a closed connection gives its place back.
    expect((await engineUpgrade(srv.url, "", { "x-forwarded-for": "203.0.113.61" })).status).toBe(101);
    open[0]?.engine.close();
    await vi.waitFor(async () => expect((await engineUpgrade(srv.url, "", flooder)).status).toBe(101));
  });

  it("rateLimit.connectionsPerIp: false turns the cap off; a bad value is a TypeError naming it", async () => {
    const srv = await server({ rateLimit: { handshakePerIp: generous, connectionsPerIp: false } });
    for (let i = 0; i < 5; i++) await rawConnection(srv.url);
    expect((await engineUpgrade(srv.url)).status).toBe(101);
    for (const bad of [0, 1.5, -3, "10"]) {
      expect(() =>
        createSoloServer({
          authenticate: () => null,
          store: "memory",
          rateLimit: { connectionsPerIp: bad as number },
          logger: pino({ level: "silent" }),
        }),
      ).toThrow(/rateLimit\.connectionsPerIp/);
    }
  });
});

describe("point 10: publicOrigin against DNS rebinding", () => {
  const rebinding = (port: number) => ({ host: `evil.example:${port}`, origin: `http://evil.example:${port}` });

  it("without publicOrigin the Host header decides the own origin (what a rebinding page exploits)", async () => {
    const srv = await server();
    expect((await rawLogin(srv.url, rebinding(srv.port))).status).toBe(200);
    expect((await engineUpgrade(srv.url, "", rebinding(srv.port))).status).toBe(101);
  });

  it("with publicOrigin, a rebinding request is refused on HTTP and on every Socket.IO transport; the public origin passes", async () => {
    const PUBLIC = "https://app.example.com";
    const srv = await server({ publicOrigin: PUBLIC, ...POLLING });
    const headers = rebinding(srv.port);
    const res = await rawLogin(srv.url, headers);
    expect(res.status).toBe(403);
    expect((JSON.parse(res.body) as ErrorBody).error).toBe("origin_not_allowed");
    const ws = await engineUpgrade(srv.url, "", headers);
    expect(ws.status).toBe(403);
    expect(refusalCode(ws)).toBe("origin_not_allowed");
    const polling = await engineRequest(srv.url, "transport=polling", { headers });
    expect(polling.status).toBe(403);
    expect(refusalCode(polling)).toBe("origin_not_allowed");
    // The server's origin by the Host header is no longer its own either.
    expect((await engineUpgrade(srv.url, "", { origin: srv.url })).status).toBe(403);

    const ok = await call(srv.url, "/auth/login", null, {
      method: "POST",
      headers: { "content-type": "application/json", origin: PUBLIC },
      body: JSON.stringify({ username: "alice", password: "demo" }),
    });
    expect(ok.status).toBe(200);
    const socket = await socketFor(srv.url, (ok.body as { token: string }).token, { extraHeaders: { origin: PUBLIC } });
    expect(socket.connected).toBe(true);
  });

  it("refuses a publicOrigin that is not an origin, and bad transports, with a TypeError naming the option", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ publicOrigin: "https://app.example.com/login" }, /publicOrigin/],
      [{ publicOrigin: "app.example.com" }, /publicOrigin/],
      [{ transports: [] }, /transports/],
      [{ transports: ["websocket", "jsonp"] }, /transports/],
      [{ transports: ["polling", "polling"] }, /transports/],
    ];
    for (const [options, name] of cases) {
      expect(() =>
        createSoloServer({ authenticate: () => null, store: "memory", logger: pino({ level: "silent" }), ...options }),
      ).toThrow(name);
    }
  });

  it("the standalone server warns at start, with event public_origin_missing, when it listens beyond loopback without SOLO_PUBLIC_ORIGIN", async () => {
    const started = async (env: Record<string, string>) => {
      const lines: { level: number; event?: string; host?: string }[] = [];
      const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      await standalone(env, { demoDir: dir(), solo: { logger } });
      return lines.filter((l) => l.event === "public_origin_missing");
    };
    expect(await started({ HOST: "0.0.0.0" })).toEqual([expect.objectContaining({ level: 40, host: "0.0.0.0" })]);
    expect(await started({ HOST: "0.0.0.0", SOLO_PUBLIC_ORIGIN: "https://app.example.com" })).toEqual([]);
    expect(await started({ HOST: "127.0.0.1" })).toEqual([]);
  });
});
