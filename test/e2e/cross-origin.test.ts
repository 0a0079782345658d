import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { testResources } from "../support/resources.js";
import { type Demo, live, signIn, startDemo } from "./demo.js";

// Issue 12, point 1, in the victim's own Chromium. The victim is signed in as admin on the demo
// at http://localhost:<port>; a page on another port of the same host (http://localhost:<other>,
// same site, so the browser attaches the victim's SameSite=Lax cookie to its subresource
// requests and sends `Sec-Fetch-Site: same-site`) tries what the red team did: a <script> with
// the JSONP long-polling URL (no Origin header), then no-cors POSTs of `40/admin,` to join the
// admin feed, a plain long-polling <script>, and a WebSocket. Every request is refused with its
// code, and the victim's own session channel stays connected.

/** The attacker's page: runs the attack against `server` when `attack(server)` is called. */
const ATTACKER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Cute cats</title></head><body>
<script>
  window.jsonp = [];
  window.___eio = [(packet) => window.jsonp.push(packet)];
  function script(src) {
    return new Promise((resolve) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = () => resolve("loaded");
      s.onerror = () => resolve("error");
      document.head.append(s);
    });
  }
  function post(url, type, body) {
    return fetch(url, { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": type }, body })
      .then(() => "sent", () => "error");
  }
  function websocket(url) {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.onopen = () => { ws.close(); resolve("open"); };
      ws.onerror = () => resolve("error");
    });
  }
  window.attack = async (server) => {
    const base = server + "/socket.io/?EIO=4&transport=polling";
    const result = {};
    result.jsonpHandshake = await script(base + "&j=0");
    // The sid the JSONP answer would have carried; without one, any sid shows the POST is refused first.
    const sid = (/"sid":"([^"]+)"/.exec(window.jsonp.join("")) || [])[1] || "AAAAAAAAAAAAAAAAAAAA";
    result.jsonpJoin = await post(base + "&j=0&sid=" + sid, "application/x-www-form-urlencoded", "d=40/admin,");
    result.pollingJoin = await post(base + "&sid=" + sid, "text/plain;charset=UTF-8", "40/admin,");
    result.jsonpPoll = await script(base + "&j=0&sid=" + sid);
    result.pollingHandshake = await script(base);
    result.websocket = await websocket(server.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket");
    result.jsonpAnswers = window.jsonp.length;
    return result;
  };
</script>
</body></html>`;

/** One request to the victim's server, as Chromium sent it and the server answered it. */
interface Seen {
  method: string;
  url: string;
  upgrade: boolean;
  headers: Record<string, string | string[] | undefined>;
  /** The status and body the server answered with (for an upgrade: the status line's code and the body). */
  status: number;
  body: string;
}

const resources = testResources();
let demo: Demo | null = null;

afterEach(async () => {
  await demo?.closeContexts();
  const problems = demo?.problems.splice(0) ?? [];
  demo = null;
  expect(problems, "page errors or CSP violations on the victim's page").toEqual([]);
});

/** Serves the attacker's page on another port of localhost (same site as the victim's server). */
async function startAttacker(): Promise<string> {
  const attacker = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(ATTACKER_PAGE);
  });
  return (await resources.listen(attacker, "localhost")).url;
}

/**
 * Records, on the server itself, every Socket.IO request that did not come from the victim's
 * own page at `own` (Chromium marks its requests `same-origin`, its WebSocket handshakes carry
 * its Origin) and what the server answered: the browser keeps the attacker's page from reading
 * the refusals (ORB), so the server's side is the truth.
 */
function watch(http: Demo["server"]["http"], own: string): Seen[] {
  const seen: Seen[] = [];
  const foreign = (req: IncomingMessage) =>
    req.url?.startsWith("/socket.io/") === true &&
    (req.headers.upgrade ? req.headers.origin !== own : req.headers["sec-fetch-site"] !== "same-origin");
  http.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!foreign(req)) return;
    const entry: Seen = {
      method: req.method ?? "",
      url: req.url ?? "",
      upgrade: false,
      headers: req.headers,
      status: 0,
      body: "",
    };
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      if (typeof args[0] === "string" || Buffer.isBuffer(args[0])) entry.body = String(args[0]);
      return end(...args);
    }) as typeof res.end;
    res.once("finish", () => {
      entry.status = res.statusCode;
      seen.push(entry);
    });
  });
  http.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
    if (!foreign(req)) return;
    const entry: Seen = {
      method: req.method ?? "",
      url: req.url ?? "",
      upgrade: true,
      headers: req.headers,
      status: 0,
      body: "",
    };
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      const text = String(args[0]);
      entry.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      entry.body = text.slice(text.indexOf("\r\n\r\n") + 4);
      return write(...args);
    }) as typeof socket.write;
    socket.once("close", () => seen.push(entry));
  });
  return seen;
}

/** The solo-session code of an Engine.IO refusal: the JSON `message` (long-polling) or the body itself. */
function code(body: string): string {
  try {
    return (JSON.parse(body) as { message: string }).message;
  } catch {
    return body;
  }
}

describe.each([
  ["WebSocket-only (the default)", {}],
  ["with long-polling enabled as an option", { SOLO_TRANSPORTS: "websocket,polling" }],
] as const)("a same-site page attacking the victim's Socket.IO server, %s", (_name, env) => {
  it("gets every JSONP, long-polling and WebSocket request refused; the victim's own channel stays connected", async () => {
    demo = await startDemo(resources, { HOST: "localhost", ...env });
    const server = demo.server.url;
    expect(server).toMatch(/^http:\/\/localhost:\d+$/);
    const { context, page: victim } = await demo.open();
    await signIn(victim, "admin", "admin");
    await live(victim);

    const seen = watch(demo.server.http, server);
    const evil = await context.newPage(); // the victim opens the attacker's page in another tab
    const attackerUrl = await startAttacker();
    await evil.goto(attackerUrl);
    const result = (await evil.evaluate(
      (url) => (window as unknown as { attack(s: string): unknown }).attack(url),
      server,
    )) as Record<string, string | number>;

    // Nothing got through: no JSONP answer, every script failed, the WebSocket never opened.
    expect(result).toMatchObject({
      jsonpHandshake: "error",
      jsonpPoll: "error",
      pollingHandshake: "error",
      websocket: "error",
      jsonpAnswers: 0,
    });
    // Five long-polling requests and one WebSocket upgrade reached the server, each refused with its code.
    await vi.waitFor(() => expect(seen.length).toBe(6));
    for (const s of seen) {
      const jsonp = /[?&]j=0/.test(s.url);
      expect({ url: s.url, status: s.status, code: code(s.body) }).toEqual({
        url: s.url,
        status: jsonp ? 400 : 403,
        code: jsonp ? "invalid_request" : "origin_not_allowed",
      });
    }
    // The browser did attach the victim's cookie and said same-site: the attack's conditions are real.
    const scripts = seen.filter((s) => s.method === "GET");
    expect(scripts).toHaveLength(4); // three <script> loads, one WebSocket upgrade
    for (const s of scripts) {
      expect(s.headers.cookie, s.url).toMatch(/solo_session=/);
      if (s.upgrade) {
        expect(s.headers.origin, s.url).toBe(attackerUrl);
      } else {
        expect(s.headers["sec-fetch-site"], s.url).toBe("same-site");
        expect(s.headers.origin, s.url).toBeUndefined();
      }
    }

    // The victim is still signed in, and their own session channel is still up.
    await vi.waitFor(async () =>
      expect(await victim.locator("#connection").getAttribute("data-status")).toBe("connected"),
    );
    await victim.getByRole("heading", { name: "Signed in as admin" }).waitFor();
    const status = await victim.evaluate(() => fetch("/auth/session").then((r) => r.status));
    expect(status).toBe(200);
  });
});
