import type { IncomingMessage } from "node:http";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UA } from "../support/client.js";
import { type Demo, live, shot, signIn, startDemo } from "./demo.js";

const DRAFT_KEY = "demo:draft";

let demo: Demo;
/** Server-side times of WebSocket upgrades to the Socket.IO path (one per connection). */
let upgrades: number[] = [];
const onUpgrade = (req: IncomingMessage) => {
  if (req.url?.startsWith("/socket.io/")) upgrades.push(Date.now());
};

beforeAll(async () => {
  demo = await startDemo();
  demo.server.http.on("upgrade", onUpgrade);
});
afterAll(async () => {
  demo?.server.http.off("upgrade", onUpgrade);
  await demo?.close();
});
beforeEach(() => {
  upgrades = [];
});
afterEach(async () => {
  await demo.closeContexts();
  expect(demo.problems.splice(0), "page errors or CSP violations").toEqual([]);
});

/** `solo_sockets_connected`: the sockets the server holds on its /session channel now. */
async function socketsConnected(): Promise<number> {
  const metric = demo.server.solo.registry.getSingleMetric("solo_sockets_connected");
  const values = (await metric?.get())?.values ?? [];
  return values[0]?.value ?? Number.NaN;
}

/** Polls until `check` holds (or fails after `timeout` ms). */
async function until(check: () => Promise<boolean> | boolean, timeout = 5000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Three tabs of one browser on the demo; the first signs in, the other two follow. */
async function threeTabs(
  username: string,
  { context, password }: { context?: BrowserContext; password?: string } = {},
): Promise<{ context: BrowserContext; pages: Page[] }> {
  const first = context ? { context, page: await demo.tab(context) } : await demo.open({ userAgent: UA.chromeMac });
  const pages = [first.page, await demo.tab(first.context), await demo.tab(first.context)];
  for (const page of pages) await page.getByRole("button", { name: "Sign in" }).waitFor();
  await signIn(pages[0]!, username, password);
  for (const page of pages) {
    await page.getByRole("heading", { name: `Signed in as ${username}` }).waitFor();
    await live(page);
  }
  return { context: first.context, pages };
}

async function leaderOf(pages: Page[]): Promise<Page[]> {
  const out: Page[] = [];
  for (const page of pages) {
    if ((await page.locator("#connection").getAttribute("data-leader")) === "true") out.push(page);
  }
  return out;
}

describe("tabs of one browser share one session channel", () => {
  it("three tabs hold exactly one WebSocket; when the leader tab closes another connects within a second", async () => {
    const { pages } = await threeTabs("alice");
    // Settle: nothing else connects, no reconnect loop.
    await pages[0]!.waitForTimeout(1500);
    expect(upgrades).toHaveLength(1);
    expect(await socketsConnected()).toBe(1);
    const leaders = await leaderOf(pages);
    expect(leaders).toHaveLength(1);
    const follower = pages.find((p) => p !== leaders[0])!;
    expect(await follower.locator("#connection-text").textContent()).toBe("Live via another tab");
    await shot(follower, "tabs-1-follower-live-via-another-tab");

    const closedAt = Date.now();
    await leaders[0]!.close();
    await until(() => upgrades.length === 2);
    console.info(`leader tab closed → next WebSocket on the server: ${upgrades[1]! - closedAt} ms`);
    expect(upgrades[1]! - closedAt).toBeLessThan(1000);
    const rest = pages.filter((p) => p !== leaders[0]);
    await until(async () => (await leaderOf(rest)).length === 1);
    for (const page of rest) await live(page);
    await until(async () => (await socketsConnected()) === 1);
    await rest[0]!.waitForTimeout(500);
    expect(upgrades).toHaveLength(2);
  });

  it("a sign-in as the same user in a second browser shows the warning in all three tabs", async () => {
    const { pages } = await threeTabs("bob");
    await pages[1]!.getByLabel("Draft note").fill("three tabs, one draft");
    const other = await demo.open({ userAgent: UA.firefoxWindows });
    await signIn(other.page, "bob");
    for (const page of pages) {
      const warning = page.getByRole("alertdialog");
      await warning.waitFor({ state: "visible", timeout: 5000 });
      expect(await warning.getAttribute("data-reason")).toBe("replaced");
      const text = await warning.textContent();
      expect(text).toContain("Firefox");
      expect(text).toContain("Windows");
    }
    expect(await pages[0]!.evaluate((key) => localStorage.getItem(key), DRAFT_KEY)).toBeNull();
    await shot(pages[2]!, "tabs-2-third-tab-warning", false);
    await until(async () => (await socketsConnected()) === 1); // the second browser's
  });

  it("a sign-out in one tab returns all three to the sign-in form; signing in again in one signs in all", async () => {
    const { pages } = await threeTabs("carol");
    await pages[1]!.getByRole("button", { name: "Sign out" }).click();
    for (const page of pages) {
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      expect(await page.getByRole("alertdialog").count()).toBe(0);
    }
    await until(async () => (await socketsConnected()) === 0);
    await shot(pages[2]!, "tabs-3-signed-out-everywhere");

    await signIn(pages[2]!, "carol");
    for (const page of pages) {
      await page.getByRole("heading", { name: "Signed in as carol" }).waitFor();
      await live(page);
    }
    expect(await socketsConnected()).toBe(1);
  });
});

describe("without Web Locks (heartbeats over BroadcastChannel)", () => {
  it("three tabs still hold one WebSocket, and a closing leader hands over within a second", async () => {
    const context = await demo.browser.context({ userAgent: UA.chromeMac, viewport: { width: 1280, height: 860 } });
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
    });
    try {
      const { pages } = await threeTabs("admin", { context, password: "admin" });
      expect(await pages[0]!.evaluate(() => "locks" in navigator && navigator.locks !== undefined)).toBe(false);
      // Heartbeats cannot exclude a brief overlap when tabs claim at once on a busy machine (that
      // is what Web Locks are for); they converge on one leader and one WebSocket.
      await until(async () => (await socketsConnected()) === 1 && (await leaderOf(pages)).length === 1);
      await pages[0]!.waitForTimeout(1500);
      expect(await socketsConnected()).toBe(1);
      const leaders = await leaderOf(pages);
      expect(leaders).toHaveLength(1);
      const before = upgrades.length;
      const closedAt = Date.now();
      await leaders[0]!.close();
      await until(() => upgrades.length > before);
      console.info(`leader tab closed → next WebSocket on the server: ${upgrades[before]! - closedAt} ms`);
      expect(upgrades[before]! - closedAt).toBeLessThan(1000);
      const rest = pages.filter((p) => p !== leaders[0]);
      await until(async () => (await socketsConnected()) === 1 && (await leaderOf(rest)).length === 1);
      await rest[0]!.waitForTimeout(1000);
      expect(await socketsConnected()).toBe(1);
      expect((await leaderOf(rest)).length).toBe(1);
    } finally {
      await context.close();
    }
  });
});
