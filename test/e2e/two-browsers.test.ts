import type { BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { UA } from "../support/client.js";
import { demoForAll, live, SOCKETS_SETTLE, sessionIdOf, shot, signIn } from "./demo.js";

const DRAFT_KEY = "demo:draft";

const demo = demoForAll();

/** A new browser (context) with one page on the demo; page errors and CSP refusals are collected. */
function open(options: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page }> {
  return demo.open(options);
}

/** The session cookie's value in a context: the token the server gave that browser. */
async function sessionToken(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies(demo.server.url)).find((c) => c.name === "solo_session");
  if (!cookie) throw new Error("no session cookie");
  return cookie.value;
}

/** `GET /api/notes` from Node with a bearer token: status and error code. */
async function notesWith(token: string): Promise<{ status: number; error: string | null }> {
  const res = await fetch(`${demo.server.url}/api/notes`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as Partial<ErrorBody>;
  return { status: res.status, error: body.error ?? null };
}

describe("two browsers, one account", () => {
  it("signs the first browser out within a second, names the new device, clears its draft; the second works", async () => {
    const a = await open({ userAgent: UA.chromeMac, colorScheme: "light" });
    const b = await open({ userAgent: UA.firefoxWindows, colorScheme: "dark" });

    await signIn(a.page, "alice");
    await live(a.page);
    await a.page.getByLabel("Draft note").fill("Call the bank about the transfer");
    expect(await a.page.evaluate((key) => localStorage.getItem(key), DRAFT_KEY)).toBe(
      "Call the bank about the transfer",
    );
    await a.page.evaluate(async () => {
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open("demo-db", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("drafts");
        open.onsuccess = () => {
          open.result.close();
          resolve();
        };
        open.onerror = () => reject(open.error);
      });
      const cache = await caches.open("demo-cache");
      await cache.put("/cached", new Response("private"));
    });
    const oldToken = await sessionToken(a.context);
    await shot(a.page, "1-a-signed-in-light");

    // A records (on the shared system clock) the moment the warning enters its page.
    await a.page.evaluate(() => {
      const w = window as Window & { warnedAt?: number };
      new MutationObserver((_, observer) => {
        if (document.querySelector("[data-solo-warning]")) {
          w.warnedAt = Date.now();
          observer.disconnect();
        }
      }).observe(document.body, { childList: true });
    });
    const dialog = a.page.getByRole("alertdialog");
    // From B's click on "Sign in" (so B's password check counts too) to A's warning. B's page
    // records the click as it happens (Playwright's own checks before clicking do not count).
    await b.page.getByLabel("Username").fill("alice");
    await b.page.getByLabel("Password").fill("demo");
    await b.page.evaluate(() => {
      const w = window as Window & { clickedAt?: number };
      document.addEventListener("click", () => (w.clickedAt ??= Date.now()), { capture: true });
    });
    await b.page.getByRole("button", { name: "Sign in" }).click();
    await b.page.getByRole("heading", { name: "Signed in as alice" }).waitFor();
    await dialog.waitFor({ state: "visible", timeout: 5000 });
    const warnedAt = await a.page.evaluate(() => (window as Window & { warnedAt?: number }).warnedAt ?? Infinity);
    const clickedAt = await b.page.evaluate(() => (window as Window & { clickedAt?: number }).clickedAt ?? 0);
    console.info(`B's click on "Sign in" → A's warning: ${warnedAt - clickedAt} ms`);
    expect(warnedAt - clickedAt).toBeLessThan(1000);

    // The warning: labelled, reason "replaced", naming the new device; focus is inside it.
    expect(await dialog.getAttribute("data-reason")).toBe("replaced");
    expect(await dialog.getAttribute("aria-modal")).toBe("true");
    const labelledBy = await dialog.getAttribute("aria-labelledby");
    expect(labelledBy).toBeTruthy();
    const text = await dialog.textContent();
    expect(text).toContain("Firefox");
    expect(text).toContain("Windows");
    const focused = await a.page.evaluate(
      () => document.activeElement?.shadowRoot?.activeElement?.closest("[role=alertdialog]") != null,
    );
    expect(focused).toBe(true);
    await a.page.keyboard.press("Tab");
    expect(
      await a.page.evaluate(
        () => document.activeElement?.shadowRoot?.activeElement?.closest("[role=alertdialog]") != null,
      ),
    ).toBe(true);

    // The draft is gone (and the IndexedDB database and the cache), the old credentials are
    // refused everywhere, the page is signed out.
    expect(await a.page.evaluate((key) => localStorage.getItem(key), DRAFT_KEY)).toBeNull();
    const leftovers = await a.page.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((db) => db.name),
      caches: await caches.keys(),
    }));
    expect(leftovers).toEqual({ databases: [], caches: [] });
    expect(await notesWith(oldToken)).toEqual({ status: 401, error: "session_replaced" });
    const fromPage = await a.page.evaluate(async () => (await fetch("/api/notes")).status);
    expect(fromPage).toBe(401);
    expect(await a.page.locator("#ended").getAttribute("data-source")).toBe("push");
    await shot(a.page, "2-a-warning-light", false);

    // Escape closes the warning; the sign-in form is there with the reason.
    await a.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await a.page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await a.page.locator("#ended").isVisible()).toBe(true);
    await shot(a.page, "3-a-after-warning-light");

    // B works.
    await live(b.page);
    await b.page.getByRole("button", { name: "Load notes" }).click();
    await b.page.locator('#notes-status[data-status="200"]').waitFor();
    expect(await b.page.locator("#notes li").count()).toBeGreaterThan(0);
    await shot(b.page, "4-b-signed-in-dark");
  });

  it("tells a browser that was offline during the kick as soon as it is back online", async () => {
    const a = await open({ userAgent: UA.chromeMac, colorScheme: "dark" });
    const b = await open({ userAgent: UA.firefoxWindows });
    await signIn(a.page, "bob");
    await live(a.page);
    const aSession = await sessionIdOf(a.page);
    await a.page.getByLabel("Draft note").fill("offline draft");

    await a.context.setOffline(true);
    await a.page.locator('#connection[data-status="offline"]').waitFor();
    await signIn(b.page, "bob");
    // While offline, A cannot know. Whether the server still held A's connection (a browser that
    // goes offline may not get to close it: the notice is sent, unanswered, and the connection
    // closed after ackTimeout) or not (the notice waits): once no socket of A's is left, the
    // notice was never acknowledged, so A's page never had it.
    await vi.waitFor(
      () => expect(demo.sockets.count(aSession), "A's sockets (the push to A is over)").toBe(0),
      SOCKETS_SETTLE,
    );
    const ended = (await demo.server.solo.store.queryAudit({ sessionId: aSession })).find((e) => e.kind === "replaced");
    expect(["pending", "delivered"]).toContain(ended?.delivery);
    expect(await a.page.getByRole("alertdialog").count()).toBe(0);

    await a.context.setOffline(false);
    const dialog = a.page.getByRole("alertdialog");
    await dialog.waitFor({ state: "visible", timeout: 10_000 });
    expect(await dialog.getAttribute("data-reason")).toBe("replaced");
    const text = await dialog.textContent();
    expect(text).toContain("Firefox");
    expect(text).toContain("Windows");
    expect(await a.page.locator("#ended").getAttribute("data-source")).toBe("reconnect");
    expect(await a.page.evaluate((key) => localStorage.getItem(key), DRAFT_KEY)).toBeNull();
    await shot(a.page, "5-a-warning-after-offline-dark", false);

    await dialog.getByRole("button", { name: "OK" }).click();
    await dialog.waitFor({ state: "detached" });
  });

  it("shows the warning on a reload that finds the session replaced, and keeps a live one", async () => {
    const a = await open({ userAgent: UA.chromeMac, viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signIn(a.page, "admin", "admin");
    await a.page.getByLabel("Draft note").fill("kept across reloads");
    await a.page.reload();
    await a.page.getByRole("heading", { name: "Signed in as admin" }).waitFor();
    expect(await a.page.getByLabel("Draft note").inputValue()).toBe("kept across reloads");
    await live(a.page);

    // The page is closed when the kick happens; reopening it finds out over HTTP.
    await a.page.close();
    const b = await open({ userAgent: UA.firefoxWindows });
    await signIn(b.page, "admin", "admin");
    const again = await demo.tab(a.context);
    const dialog = again.getByRole("alertdialog");
    await dialog.waitFor({ state: "visible" });
    expect(await dialog.getAttribute("data-reason")).toBe("replaced");
    expect(await dialog.textContent()).toContain("Firefox");
    expect(await again.locator("#ended").getAttribute("data-source")).toBe("http");
    expect(await again.evaluate((key) => localStorage.getItem(key), DRAFT_KEY)).toBeNull();
    await shot(again, "6-a-phone-warning-on-reload-dark", false);

    // The server cleared the cookie with that answer: the next reload is a plain sign-in page.
    await again.reload();
    await again.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await again.getByRole("alertdialog").count()).toBe(0);
  });

  it("two tabs of one browser share the session: the first holds the channel, the second is live through it", async () => {
    const first = await open({ userAgent: UA.chromeMac });
    await signIn(first.page, "carol");
    await live(first.page);
    const session = await sessionIdOf(first.page);
    const second = await demo.tab(first.context);
    await second.getByRole("heading", { name: "Signed in as carol" }).waitFor();
    await live(second);
    // One socket, opened once: the second tab did not connect (it would have replaced the first's).
    expect(demo.sockets.count(session)).toBe(1);
    expect(demo.sockets.connections(session)).toHaveLength(1);
    expect(await first.page.locator("#log .log-good", { hasText: "Connected" }).count()).toBe(1);
    expect(await first.page.locator("#connection").getAttribute("data-status")).toBe("connected");
    expect(await first.page.locator("#connection").getAttribute("data-leader")).toBe("true");
    expect(await second.locator("#connection").getAttribute("data-leader")).toBe("false");
    // Both tabs still work over HTTP.
    await second.getByRole("button", { name: "Load notes" }).click();
    await second.locator('#notes-status[data-status="200"]').waitFor();
  });

  it("signs out: the sign-in form is back, the cookie is gone, no warning (phone width)", async () => {
    const b = await open({ userAgent: UA.firefoxWindows, viewport: { width: 390, height: 844 }, isMobile: true });
    await signIn(b.page, "carol");
    await live(b.page);
    await b.page.getByLabel("Draft note").fill("short note");
    await shot(b.page, "7-b-phone-signed-in");
    await b.page.getByRole("button", { name: "Sign out", exact: true }).click();
    await b.page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await b.page.getByLabel("Username").isVisible()).toBe(true);
    expect(await b.page.getByRole("alertdialog").count()).toBe(0);
    expect(await b.page.evaluate((key) => localStorage.getItem(key), DRAFT_KEY)).toBeNull();
    const session = await b.page.evaluate(async () => {
      const res = await fetch("/auth/session");
      return { status: res.status, error: ((await res.json()) as { error?: string }).error };
    });
    expect(session).toEqual({ status: 401, error: "missing_token" });
    await shot(b.page, "8-b-phone-signed-out");
  });
});
