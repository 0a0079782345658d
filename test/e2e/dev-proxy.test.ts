import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import { pino } from "pino";
import type { Page } from "playwright-core";
import { createServer as createViteServer, type ProxyOptions, type ViteDevServer } from "vite";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { SOURCE_ALIASES } from "../../scripts/source-aliases.js";
import { createSoloServer, type SoloServer } from "../../server/index.js";
import { DEMO_ACCOUNTS, DemoUsers } from "../../standalone/users.js";
import { launchBrowser, type TestBrowser } from "../support/browser.js";
import { UA } from "../support/client.js";
import { testResources } from "../support/resources.js";
import { live, signIn } from "./demo.js";

// Issue 14, point 7: the SDK behind Vite's dev server. The page comes from a real Vite dev
// server (the demo's sources, in dev mode) whose proxy sends `/auth`, `/api` and the
// `/socket.io` WebSocket to a real solo-session server, in both of Vite's forms: the shorthand
// (`"/auth": "http://localhost:3000"`, which Vite turns into `changeOrigin: true`) and the
// object form with `changeOrigin: true`. Both rewrite `Host` to the API's, so the browser's
// Origin (the dev server's) is not the API's own origin: the API is told about it with
// `allowedOrigins`, as the README shows. Without it, the same login is 403 origin_not_allowed.

const ROOT = join(import.meta.dirname, "../..");

type Form = "shorthand" | "object";

/** Vite's `server.proxy` for an API at `api` (`http://host:port`), in one of the two forms. */
function proxyFor(form: Form, api: string): Record<string, string | ProxyOptions> {
  const ws = api.replace(/^http/, "ws");
  if (form === "shorthand") return { "/auth": api, "/api": api, "/socket.io": ws };
  return {
    "/auth": { target: api, changeOrigin: true },
    "/api": { target: api, changeOrigin: true },
    "/socket.io": { target: ws, ws: true, changeOrigin: true },
  };
}

/** A solo-session API behind a Vite dev server, and what the API saw of the proxied requests. */
interface DevSetup {
  /** The page's origin: the Vite dev server. */
  url: string;
  /** The API's own origin (the proxy's target). */
  api: string;
  /** Host and Origin of each request the API received, by path. */
  seen: { path: string; host: string | undefined; origin: string | undefined; upgrade: boolean }[];
}

const resources = testResources();
const shared = testResources("all");
let users: DemoUsers;
let browser: TestBrowser;
/** Page errors (a test's afterEach expects none). */
const problems: string[] = [];
/** Console errors, by page (an anonymous load through the proxy logs none). */
const consoleErrors = new Map<Page, string[]>();

beforeAll(async () => {
  users = await DemoUsers.create(DEMO_ACCOUNTS);
  browser = shared.track(await launchBrowser());
});
afterEach(() => {
  consoleErrors.clear();
  expect(problems.splice(0), "page errors").toEqual([]);
});

/**
 * The API's HTTP server listens first (its address is the proxy's target), then the Vite dev
 * server (its origin is what the API must allow), then the solo-session app is mounted on the
 * API's server with `allowedOrigins: [<the dev server's origin>]` when `allow`. All of it, and
 * the browsers the test opens, are closed after the test.
 */
async function devSetup(form: Form, allow: boolean): Promise<DevSetup> {
  const seen: DevSetup["seen"] = [];
  const note = (req: IncomingMessage, upgrade: boolean) =>
    seen.push({ path: req.url ?? "", host: req.headers.host, origin: req.headers.origin, upgrade });
  const http: Server = createServer();
  http.on("request", (req) => note(req, false));
  http.on("upgrade", (req) => note(req, true));
  const { url: api } = await resources.listen(http);

  const vite: ViteDevServer = resources.track(
    await createViteServer({
      configFile: false,
      root: join(ROOT, "demo"),
      publicDir: join(ROOT, "demo/public"),
      cacheDir: resources.dir("solo-vite-cache-"),
      logLevel: "silent",
      resolve: { alias: SOURCE_ALIASES },
      optimizeDeps: { include: ["socket.io-client"], noDiscovery: true },
      server: { host: "127.0.0.1", port: 0, hmr: false, proxy: proxyFor(form, api) },
    }),
  );
  await vite.listen();
  if (!vite.httpServer) throw new Error("the Vite dev server has no HTTP server (middleware mode?)");
  const url = `http://127.0.0.1:${(vite.httpServer.address() as AddressInfo).port}`;

  const solo: SoloServer = resources.track(
    createSoloServer({
      logger: pino({ level: "silent" }),
      dataDir: resources.dir(),
      authenticate: users.authenticate,
      allowedOrigins: allow ? [url] : [],
    }),
  );
  await solo.ready;
  const app = express();
  app.use("/auth", solo.router);
  app.get("/api/notes", solo.requireSession(), (req, res) => {
    res.json({ user: req.solo?.userId, notes: [] });
  });
  app.use(solo.errorHandler());
  http.on("request", app);
  solo.attach(http);
  return { url, api, seen };
}

/** A new browser on the dev server's page, anonymous, its page errors and console errors watched. */
async function open(url: string, userAgent: string): Promise<Page> {
  const context = resources.track(await browser.context({ userAgent }));
  const page = await context.newPage();
  const errors: string[] = [];
  consoleErrors.set(page, errors);
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto(url);
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  await page.waitForLoadState("networkidle");
  return page;
}

describe("the SDK behind Vite's dev proxy, with the dev server's origin in allowedOrigins", () => {
  for (const form of ["shorthand", "object"] as const) {
    it(`${form} form: signs in through the proxy, holds the socket through the WebSocket proxy, and gets the kick`, async () => {
      const setup = await devSetup(form, true);
      const a = await open(setup.url, UA.chromeMac);
      expect(consoleErrors.get(a), "console errors of the anonymous load").toEqual([]);
      await signIn(a, "alice");
      await live(a);
      await a.getByRole("button", { name: "Load notes" }).click();
      await a.locator('#notes-status[data-status="200"]').waitFor();

      // The proxy rewrote Host to the API's own, and kept the browser's Origin (the dev
      // server's): the case that was 403 origin_not_allowed without allowedOrigins.
      const apiHost = new URL(setup.api).host;
      const login = setup.seen.find((r) => r.path === "/auth/login");
      expect(login).toMatchObject({ host: apiHost, origin: setup.url });
      const upgrade = setup.seen.find((r) => r.upgrade && r.path.startsWith("/socket.io/"));
      expect(upgrade).toMatchObject({ host: apiHost, origin: setup.url });

      const b = await open(setup.url, UA.firefoxWindows);
      await signIn(b, "alice");
      const warning = a.getByRole("alertdialog");
      await warning.waitFor({ state: "visible", timeout: 5000 });
      expect(await warning.getAttribute("data-reason")).toBe("replaced");
      await live(b);
    });
  }
});

describe("without allowedOrigins", () => {
  for (const form of ["shorthand", "object"] as const) {
    it(`${form} form: a login through the proxy is 403 origin_not_allowed`, async () => {
      const setup = await devSetup(form, false);
      const a = await open(setup.url, UA.chromeMac);
      const answer = await a.evaluate(async () => {
        const res = await fetch("/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "alice", password: "demo" }),
        });
        return { status: res.status, body: await res.json() };
      });
      expect(answer.status).toBe(403);
      expect((answer.body as ErrorBody).error).toBe("origin_not_allowed");
    });
  }
});
