import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it, vi } from "vitest";
import { UA } from "../support/client.js";
import { demoForAll, live, SOCKETS_SETTLE, sessionIdOf, shot, signIn } from "./demo.js";

const DRAFT_KEY = "demo:draft";

// Each test counts the sockets of its own session only (demo.sockets): a socket of an earlier
// test, left by a browser that vanished mid-connection, may outlive that test on the server.
const demo = demoForAll();

/** Tabs of one browser on the demo; the first signs in, the others follow. Returns the session's id. */
async function tabsOf(
  username: string,
  { context, password, count = 3 }: { context?: BrowserContext; password?: string; count?: number } = {},
): Promise<{ context: BrowserContext; pages: Page[]; sessionId: string }> {
  const first = context ? { context, page: await demo.tab(context) } : await demo.open({ userAgent: UA.chromeMac });
  const pages = [first.page];
  while (pages.length < count) pages.push(await demo.tab(first.context));
  for (const page of pages) await page.getByRole("button", { name: "Sign in" }).waitFor();
  await signIn(pages[0]!, username, password);
  for (const page of pages) {
    await page.getByRole("heading", { name: `Signed in as ${username}` }).waitFor();
    await live(page);
  }
  return { context: first.context, pages, sessionId: await sessionIdOf(pages[0]!) };
}

/** The pages that show they hold the session channel (the demo renders the SDK's `leader` event). */
async function leadersOf(pages: Page[]): Promise<Page[]> {
  const out: Page[] = [];
  for (const page of pages) {
    if ((await page.locator("#connection").getAttribute("data-leader")) === "true") out.push(page);
  }
  return out;
}

/** Waits until exactly one of `pages` shows it leads, and returns it. */
async function oneLeader(pages: Page[]): Promise<Page> {
  await vi.waitFor(async () => expect((await leadersOf(pages)).length).toBe(1), { timeout: 10_000 });
  return (await leadersOf(pages))[0]!;
}

/** A browser whose pages have no Web Locks API: the tabs elect with heartbeats over BroadcastChannel. */
async function withoutWebLocks(): Promise<BrowserContext> {
  const context = await demo.browser.context({ userAgent: UA.chromeMac, viewport: { width: 1280, height: 860 } });
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
  });
  return context;
}

describe("tabs of one browser share one session channel", () => {
  it("three tabs hold one socket of the session; closing the leader tab connects another tab's within a second", async () => {
    const { pages, sessionId } = await tabsOf("alice");
    // Every tab is live: the leader through its socket, the others through the leader.
    expect(demo.sockets.count(sessionId)).toBe(1);
    expect(demo.sockets.connections(sessionId)).toHaveLength(1);
    const leader = await oneLeader(pages);
    const follower = pages.find((p) => p !== leader)!;
    expect(await follower.locator("#connection-text").textContent()).toBe("Live via another tab");
    await shot(follower, "tabs-1-follower-live-via-another-tab");

    const closedAt = Date.now();
    await leader.close();
    await vi.waitFor(
      () => expect(demo.sockets.connections(sessionId), "sockets of the session so far").toHaveLength(2),
      SOCKETS_SETTLE,
    );
    const handover = demo.sockets.connections(sessionId)[1]! - closedAt;
    console.info(`leader tab closed → the next tab's socket joined /session: ${handover} ms`);
    expect(handover).toBeLessThan(1000);
    const rest = pages.filter((p) => p !== leader);
    await oneLeader(rest);
    for (const page of rest) await live(page);
    await vi.waitFor(() => expect(demo.sockets.count(sessionId), "sockets of the session").toBe(1), SOCKETS_SETTLE);
    expect(demo.sockets.connections(sessionId)).toHaveLength(2);
  });

  it("a sign-in as the same user in a second browser shows the warning in all three tabs", async () => {
    const { pages, sessionId } = await tabsOf("bob");
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
    await live(other.page);
    const newSession = await sessionIdOf(other.page);
    await vi.waitFor(
      () => expect(demo.sockets.count(sessionId), "sockets of the replaced session").toBe(0),
      SOCKETS_SETTLE,
    );
    expect(demo.sockets.count(newSession)).toBe(1);
  });

  it("a sign-out in one tab returns all three to the sign-in form; signing in again in one signs in all", async () => {
    const { pages, sessionId } = await tabsOf("carol");
    await pages[1]!.getByRole("button", { name: "Sign out", exact: true }).click();
    for (const page of pages) {
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      expect(await page.getByRole("alertdialog").count()).toBe(0);
    }
    await vi.waitFor(() => expect(demo.sockets.count(sessionId), "sockets of the session").toBe(0), SOCKETS_SETTLE);
    await shot(pages[2]!, "tabs-3-signed-out-everywhere");

    await signIn(pages[2]!, "carol");
    for (const page of pages) {
      await page.getByRole("heading", { name: "Signed in as carol" }).waitFor();
      await live(page);
    }
    const again = await sessionIdOf(pages[0]!);
    expect(again).not.toBe(sessionId);
    expect(demo.sockets.count(again)).toBe(1);
    expect(demo.sockets.connections(again)).toHaveLength(1);
  });
});

describe("without Web Locks (heartbeats over BroadcastChannel)", () => {
  it("three tabs converge on one leader and one socket of the session; closing the leader tab connects another tab's within a second", async () => {
    const context = await withoutWebLocks();
    try {
      const { pages, sessionId } = await tabsOf("admin", { context, password: "admin" });
      expect(await pages[0]!.evaluate(() => "locks" in navigator && navigator.locks !== undefined)).toBe(false);
      // Heartbeats cannot exclude a brief overlap when tabs claim at once on a busy machine (that
      // is what Web Locks are for); of two leaders one steps down, and the flags follow.
      const leader = await oneLeader(pages);
      await vi.waitFor(() => expect(demo.sockets.count(sessionId), "sockets of the session").toBe(1), SOCKETS_SETTLE);
      const before = demo.sockets.connections(sessionId).length;
      const closedAt = Date.now();
      await leader.close();
      await vi.waitFor(
        () =>
          expect(demo.sockets.connections(sessionId).length, "sockets of the session so far").toBeGreaterThan(before),
        SOCKETS_SETTLE,
      );
      const handover = demo.sockets.connections(sessionId)[before]! - closedAt;
      console.info(`leader tab closed → the next tab's socket joined /session: ${handover} ms`);
      expect(handover).toBeLessThan(1000);
      const rest = pages.filter((p) => p !== leader);
      await oneLeader(rest);
      for (const page of rest) await live(page);
      await vi.waitFor(() => expect(demo.sockets.count(sessionId), "sockets of the session").toBe(1), SOCKETS_SETTLE);
    } finally {
      await context.close();
    }
  });

  it("a leader tab that was frozen while another took over shows it no longer leads, and is live through the new leader", async () => {
    const context = await withoutWebLocks();
    try {
      // One tab: the one that takes over is then the new tab (a tab never unseats a live leader,
      // and here no other tab could claim first while the new one loads on a busy machine).
      const { pages, sessionId } = await tabsOf("bob", { context, count: 1 });
      const old = await oneLeader(pages);
      await vi.waitFor(() => expect(demo.sockets.count(sessionId), "sockets of the session").toBe(1), SOCKETS_SETTLE);

      // The old leader's scripts stop (as in a tab the browser freezes): no heartbeats, no events.
      const cdp = await context.newCDPSession(old);
      await cdp.send("Debugger.enable");
      const paused = new Promise((resolve) => cdp.once("Debugger.paused", resolve));
      await cdp.send("Debugger.pause");
      await paused;
      let newest: Page;
      let connections: number;
      try {
        // A new tab takes over; its election id is the highest there is (ids are Math.random()).
        newest = await demo.tab(context, "/", () => {
          Math.random = () => 1 - 2 ** -53;
        });
        await newest.locator('#connection[data-leader="true"][data-status="connected"]').waitFor();
        await vi.waitFor(
          () => expect(demo.sockets.count(sessionId), "the new leader's socket alone").toBe(1),
          SOCKETS_SETTLE,
        );
        connections = demo.sockets.connections(sessionId).length;
      } finally {
        await cdp.send("Debugger.resume").catch(() => {});
      }

      // Awake, the old leader hears the new one and steps down: its page says so at once.
      await old.locator('#connection[data-leader="false"][data-status="connected"]').waitFor({ timeout: 5000 });
      expect(await old.locator("#connection-text").textContent()).toBe("Live via another tab");
      await old.locator("#log .log-item", { hasText: "Not leading" }).first().waitFor();
      expect(await leadersOf([...pages, newest])).toEqual([newest]);
      expect(demo.sockets.count(sessionId)).toBe(1);
      expect(demo.sockets.connections(sessionId)).toHaveLength(connections); // it did not reconnect
      await shot(old, "tabs-4-old-leader-steps-down");
    } finally {
      await context.close();
    }
  });
});
