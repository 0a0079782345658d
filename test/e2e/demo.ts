import { execSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { afterEach, beforeAll, expect } from "vitest";
import type { Standalone } from "../../standalone/standalone.js";
import { launchBrowser, type TestBrowser } from "../support/browser.js";
import { type TestResources, testResources } from "../support/resources.js";
import { type SessionSockets, watchSockets } from "./sockets.js";

const ROOT = join(import.meta.dirname, "../..");
export const DEMO_DIR = join(ROOT, "dist/demo");
export const SHOTS = join(ROOT, "test-results/e2e");
/** How long the server's sockets of a session may take to settle after a tab or browser acts (vi.waitFor options). */
export const SOCKETS_SETTLE = { timeout: 10_000 };

/** The newest modification time under a directory. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** The standalone server with the built demo, a Chromium, and the contexts a test opened. */
export interface Demo {
  server: Standalone;
  browser: TestBrowser;
  /** The server's sockets, per session (tests count their own sessions' sockets only). */
  sockets: SessionSockets;
  /** Page errors and CSP refusals seen so far (a test's afterEach expects none). */
  problems: string[];
  /** A new browser (context) with one page on `path` (default: the demo page). */
  open(options?: BrowserContextOptions, path?: string): Promise<{ context: BrowserContext; page: Page }>;
  /** Another tab in the same browser, on `path`; `init` runs in the page before its own scripts. */
  tab(context: BrowserContext, path?: string, init?: () => void): Promise<Page>;
  /** Closes the contexts opened since the last call. */
  closeContexts(): Promise<void>;
}

/**
 * Starts the standalone server (SQLite in a temp dir, silent logs, `env` on top) serving
 * dist/demo (built first if missing), and Chromium; `resources` closes them.
 */
export async function startDemo(resources: TestResources, env: NodeJS.ProcessEnv = {}): Promise<Demo> {
  // Build the demo when it is missing or older than its sources, so the page under test is this code.
  const built = join(DEMO_DIR, "index.html");
  const sources = Math.max(newest(join(ROOT, "demo")), newest(join(ROOT, "client-sdk")));
  if (!existsSync(built) || !existsSync(join(DEMO_DIR, "react.html")) || statSync(built).mtimeMs < sources) {
    execSync("npm run build:demo", { cwd: ROOT, stdio: "ignore" });
  }
  mkdirSync(SHOTS, { recursive: true });
  const server = await resources.standalone({ SOLO_STORE: "sqlite", ...env }, { demoDir: DEMO_DIR });
  const browser = resources.track(await launchBrowser());
  const problems: string[] = [];
  const contexts: BrowserContext[] = [];
  const watch = (page: Page) => {
    page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`csp: ${message.text()}`);
    });
  };
  const tab = async (context: BrowserContext, path = "/", init?: () => void) => {
    const page = await context.newPage();
    watch(page);
    if (init) await page.addInitScript(init);
    await page.goto(server.url + path);
    return page;
  };
  const sockets = resources.track(watchSockets(server.io));
  return {
    server,
    browser,
    sockets,
    problems,
    async open(options = {}, path = "/") {
      const context = await browser.context({ viewport: { width: 1280, height: 860 }, ...options });
      contexts.push(context);
      return { context, page: await tab(context, path) };
    },
    tab,
    async closeContexts() {
      for (const context of contexts.splice(0)) await context.close();
    },
  };
}

/**
 * The demo for the tests of this file (or of the `describe` it is called in): started before
 * the first, closed after the last. After each test it closes the test's browsers and expects
 * no page error or CSP violation.
 *
 * @example
 * ```ts
 * const demo = demoForAll({ SOLO_POLICY: "confirm" });
 * it("...", async () => { const { page } = await demo.open(); ... });
 * ```
 */
export function demoForAll(env: NodeJS.ProcessEnv = {}): Demo {
  const resources = testResources("all");
  const demo = {} as Demo;
  beforeAll(async () => {
    Object.assign(demo, await startDemo(resources, env));
  });
  afterEach(async () => {
    await demo.closeContexts();
    expect(demo.problems.splice(0), "page errors or CSP violations").toEqual([]);
  });
  return demo;
}

/** Signs in through the demo's form and waits for "Signed in as <name>". */
export async function signIn(page: Page, username: string, password = "demo"): Promise<void> {
  await fillSignIn(page, username, password);
  await page.getByRole("heading", { name: `Signed in as ${username}` }).waitFor();
}

/** Fills the sign-in form and clicks "Sign in" (without waiting for the outcome). */
export async function fillSignIn(page: Page, username: string, password = "demo"): Promise<void> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The id of the session the demo page shows (its full id is the title of `#fact-id`). */
export async function sessionIdOf(page: Page): Promise<string> {
  const id = await page.locator("#fact-id").getAttribute("title");
  if (!id) throw new Error("no session id on the page");
  return id;
}

/** Waits until the page's session channel is live (held here or by another tab). */
export async function live(page: Page): Promise<void> {
  await page.locator('#connection[data-status="connected"]').waitFor();
}

/** Saves a screenshot to test-results/e2e; `fullPage: false` shows a modal as the person sees it. */
export function shot(page: Page, name: string, fullPage = true): Promise<Buffer> {
  return page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}
