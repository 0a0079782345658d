import { join } from "node:path";
import type { Page } from "playwright-core";
import { build, createServer } from "vite";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Standalone } from "../../standalone/standalone.js";
import { launchBrowser, type TestBrowser } from "../support/browser.js";
import { call, login, UA } from "../support/client.js";
import { buildClientIfStale, ROOT } from "../support/examples.js";
import { adminToken, endingEvent } from "../support/ops.js";
import { testResources } from "../support/resources.js";

// examples/react-client, built with its own Vite config and served beside `/auth` and `/api`
// by the standalone server (`npm start`, the demo users), in real Chromium. The example imports
// `@solo-session/client` as an installed package (the workspace packages/client, its built
// dist/), so that is built first when stale.

const EXAMPLE = join(ROOT, "examples/react-client");
/** How long the audit trail may take to record the acknowledgement (vi.waitFor options). */
const SETTLE = { timeout: 10_000, interval: 50 };
const shared = testResources("all");
const { track, dir } = testResources();
let server: Standalone;
let browser: TestBrowser;
const problems: string[] = [];
/** Console errors of the pages, in order (the anonymous load logs none). */
const consoleErrors: string[] = [];

beforeAll(async () => {
  buildClientIfStale();
  const outDir = shared.dir("solo-react-example-");
  await build({ root: EXAMPLE, configFile: join(EXAMPLE, "vite.config.ts"), logLevel: "warn", build: { outDir } });
  server = await shared.standalone({}, { demoDir: outDir });
  browser = shared.track(await launchBrowser());
});

/** A fresh browser on the example's page (served by the standalone server, or at `url`), closed after the test. */
async function open(userAgent: string, url = server.url): Promise<Page> {
  const context = track(await browser.context({ userAgent }));
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`csp: ${message.text()}`);
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.goto(url);
  return page;
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: `Signed in as ${username}` }).waitFor();
  await page.locator('[data-connection="connected"]').waitFor(); // the session channel is live
}

/** The session cookie this page's browser holds (HttpOnly: read through Playwright). */
async function sessionCookie(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name === "solo_session");
  if (!cookie) throw new Error("no session cookie");
  return cookie.value;
}

describe("examples/react-client", { timeout: 90_000 }, () => {
  it("shows the user, and the first browser's page reacts at once when the same user signs in elsewhere", async () => {
    const admin = await adminToken(server.url);
    consoleErrors.splice(0);
    const first = await open(UA.chromeMac);
    await first.getByRole("heading", { name: "Sign in" }).waitFor();
    await first.waitForLoadState("networkidle");
    expect(consoleErrors, "console errors of the anonymous page load").toEqual([]);
    await signIn(first, "alice", "demo");
    expect(await first.locator("main p").textContent()).toContain("On Chrome 131 on Mac OS 10.15.7");
    const firstToken = await sessionCookie(first);
    const firstSession = (await call(server.url, "/auth/session", firstToken)).body as { session: { id: string } };

    const second = await open(UA.firefoxWindows);
    await signIn(second, "alice", "demo");

    // The first page's socket got session:revoked (and acknowledged it): the page says why.
    const notice = first.getByRole("alert");
    await notice.waitFor();
    expect(await notice.getAttribute("data-code")).toBe("session_replaced");
    expect(await notice.textContent()).toContain("Firefox 132 on Windows");
    await first.getByRole("heading", { name: "Sign in" }).waitFor();
    await vi.waitFor(
      async () =>
        expect((await endingEvent(server.url, admin, firstSession.session.id))?.delivery).toBe("acknowledged"),
      SETTLE,
    );

    // The app's own route refuses the first session's token, in its format; the second browser is served.
    const refused = await call(server.url, "/api/notes", firstToken);
    expect([refused.status, (refused.body as { error: string }).error]).toEqual([401, "session_replaced"]);
    const served = await second.evaluate(async () => {
      const res = await fetch("/api/notes");
      return { status: res.status, user: ((await res.json()) as { user: string }).user };
    });
    expect(served).toEqual({ status: 200, user: "alice" });

    // A reload keeps the second browser signed in (the SDK restores it from the cookie).
    await second.reload();
    await second.getByRole("heading", { name: "Signed in as alice" }).waitFor();
    await second.getByRole("button", { name: "Sign out" }).click();
    await second.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await second.getByRole("alert").count()).toBe(0);
    expect(problems.splice(0), "page errors or CSP violations").toEqual([]);
  });

  it("runs behind Vite's dev server, its proxy keeping the Host header and forwarding the WebSocket", async () => {
    process.env.SOLO_API = server.url; // read by the example's vite.config.ts
    const vite = track(
      await createServer({
        root: EXAMPLE,
        configFile: join(EXAMPLE, "vite.config.ts"),
        cacheDir: dir("solo-react-example-vite-"),
        logLevel: "warn",
        // Bundled up front, so that no dependency found on the first page load makes Vite reload the page mid-test.
        optimizeDeps: {
          include: ["react", "react/jsx-runtime", "react/jsx-dev-runtime", "react-dom/client", "socket.io-client"],
        },
        server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false },
      }).finally(() => {
        delete process.env.SOLO_API;
      }),
    );
    await vite.listen();
    const page = await open(UA.chromeMac, vite.resolvedUrls?.local[0]);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signIn(page, "bob", "demo"); // login through the proxy, the channel through its WebSocket
    await login(server.url, { username: "bob", password: "demo" }, { "user-agent": UA.firefoxWindows });
    const notice = page.getByRole("alert");
    await notice.waitFor();
    expect(await notice.getAttribute("data-code")).toBe("session_replaced");
    expect(problems.splice(0), "page errors or CSP violations").toEqual([]);
  });
});
