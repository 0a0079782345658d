import type { BrowserContext, BrowserContextOptions, Locator, Page } from "playwright-core";
import { describe, expect, it, vi } from "vitest";
import { DELIVERY_RANK } from "../../protocol/index.js";
import { UA } from "../support/client.js";
import { demoForAll, shot as fullShot, sessionIdOf } from "./demo.js";

const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

const demo = demoForAll();

function open(options: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page }> {
  return demo.open(options);
}

async function signIn(page: Page, username: string, password = "demo"): Promise<string> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: `Signed in as ${username}` }).waitFor();
  await page.locator('#connection[data-status="connected"]').waitFor();
  return sessionIdOf(page);
}

const shot = (page: Page, name: string): Promise<Buffer> => fullShot(page, name);

/** The admin view's parts on a page. */
function adminView(page: Page) {
  const root = page.locator("section.admin");
  return {
    root,
    feed: root.locator("[data-admin=feed]"),
    session: (id: string): Locator => root.locator(`[data-admin=sessions] tbody tr[data-session-id="${id}"]`),
    event: (kind: string, sessionId: string): Locator =>
      root.locator(`[data-admin=audit] tbody tr[data-kind="${kind}"][data-session-id="${sessionId}"]`),
  };
}

/**
 * Records, in the page, every delivery status shown for the ending event of `sessionId`,
 * in order, from now on (including the first one rendered).
 */
async function watchDelivery(page: Page, sessionId: string): Promise<() => Promise<string[]>> {
  await page.evaluate((id) => {
    const w = window as Window & { deliveries?: Record<string, string[]> };
    w.deliveries ??= {};
    const seen: string[] = [];
    w.deliveries[id] = seen;
    const look = () => {
      const badge = document.querySelector<HTMLElement>(
        `[data-admin=audit] tr[data-session-id="${id}"]:not([data-kind=login]) .delivery`,
      );
      const status = badge?.dataset.status;
      if (status && seen[seen.length - 1] !== status) seen.push(status);
    };
    const body = document.querySelector("[data-admin=audit] tbody");
    if (!body) throw new Error("no audit table");
    new MutationObserver(look).observe(body, { childList: true, subtree: true });
    look();
  }, sessionId);
  return () =>
    page.evaluate(
      (id) => (window as Window & { deliveries?: Record<string, string[]> }).deliveries?.[id] ?? [],
      sessionId,
    );
}

function forwardOnly(statuses: string[]): boolean {
  const ranks = statuses.map((s) => DELIVERY_RANK[s as keyof typeof DELIVERY_RANK] ?? -1);
  return ranks.every((rank, i) => rank >= 0 && (i === 0 || rank > (ranks[i - 1] ?? -1)));
}

describe("the admin view", () => {
  it("is neither shown nor downloaded for a user without the admin role", async () => {
    const c = await open({ userAgent: UA.chromeMac });
    const assets: string[] = [];
    c.page.on("request", (req) => {
      if (["script", "stylesheet"].includes(req.resourceType())) assets.push(new URL(req.url()).pathname);
    });
    const probe = c.page.waitForResponse((res) => new URL(res.url()).pathname === "/auth/admin/sessions");
    await signIn(c.page, "carol");
    expect((await probe).status()).toBe(403);
    // The page has read that answer (it marks the slot); a wrongly loaded view would start now.
    await c.page.locator('#admin-slot[data-access="denied"]').waitFor({ state: "attached" });
    expect(await c.page.locator("section.admin").count()).toBe(0);
    expect(await c.page.locator("#admin-slot").isHidden()).toBe(true);
    expect(assets.filter((path) => /admin/i.test(path))).toEqual([]);
  });

  it("shows live sessions and the audit trail as they change; the admin ends a session and all of a user's", async () => {
    const a = await open({ userAgent: UA.chromeMac, colorScheme: "light" });
    const adminSession = await signIn(a.page, "admin", "admin");
    const admin = adminView(a.page);
    await admin.root.getByRole("heading", { name: "Sessions and audit trail" }).waitFor();
    await admin.feed.and(a.page.locator('[data-status="connected"]')).waitFor();
    await vi.waitFor(async () => expect(await admin.session(adminSession).textContent()).toContain("You"));
    expect(await admin.session(adminSession).getByRole("button").count()).toBe(0);
    await admin.event("login", adminSession).waitFor();
    // Everything below happens without a reload of A.
    await a.page.evaluate(() => {
      (window as Window & { sameDocument?: boolean }).sameDocument = true;
    });

    // B: alice signs in. A's table gets her session, the trail a login.
    const b = await open({ userAgent: UA.firefoxWindows, colorScheme: "dark" });
    const bSession = await signIn(b.page, "alice");
    const bRow = admin.session(bSession);
    await bRow.waitFor();
    expect(await bRow.getAttribute("data-user-id")).toBe("alice");
    const bText = await bRow.textContent();
    expect(bText).toContain("Firefox");
    expect(bText).toContain("Windows");
    expect(bText).toContain("127.0.0.1");
    await admin.event("login", bSession).waitFor();
    expect(await admin.event("login", bSession).locator(".delivery").count()).toBe(0);

    // C: alice signs in again. B is told and acknowledges; A sees "replaced" reach "acknowledged".
    const bDelivery = await watchDelivery(a.page, bSession);
    const c = await open({ userAgent: IPHONE, colorScheme: "light" });
    const cSession = await signIn(c.page, "alice");
    const bWarning = b.page.getByRole("alertdialog");
    await bWarning.waitFor({ state: "visible" });
    expect(await bWarning.getAttribute("data-reason")).toBe("replaced");
    const replaced = admin.event("replaced", bSession);
    await replaced.locator('.delivery[data-status="acknowledged"]').waitFor();
    expect(await replaced.textContent()).toContain("Safari");
    const bStatuses = await bDelivery();
    expect(bStatuses.at(-1)).toBe("acknowledged");
    expect(forwardOnly(bStatuses), `delivery went ${bStatuses.join(" → ")}`).toBe(true);
    await admin.session(cSession).waitFor();
    await bRow.waitFor({ state: "detached" });
    await admin.event("login", cSession).waitFor();
    // Newest first: C's login is above B's replacement's login.
    const order = await a.page
      .locator("[data-admin=audit] tbody tr")
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.eventId ?? ""));
    const ids = order.map(Number);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    await shot(a.page, "admin-light");

    // A ends C's session with the row's button, which says what it ends.
    const cDelivery = await watchDelivery(a.page, cSession);
    const end = admin.session(cSession).getByRole("button", { name: /^End session/ });
    const label = (await end.getAttribute("aria-label")) ?? "";
    expect(label).toContain("alice");
    expect(label).toContain("Safari");
    await end.click();
    const cWarning = c.page.getByRole("alertdialog");
    await cWarning.waitFor({ state: "visible" });
    expect(await cWarning.getAttribute("data-reason")).toBe("revoked");
    expect(await c.page.locator("#ended").getAttribute("data-code")).toBe("session_revoked");
    const revoked = admin.event("revoked", cSession);
    await revoked.waitFor();
    expect(await revoked.locator(".cell-event").textContent()).toContain("admin");
    await revoked.locator('.delivery[data-status="acknowledged"]').waitFor();
    const cStatuses = await cDelivery();
    expect(forwardOnly(cStatuses), `delivery went ${cStatuses.join(" → ")}`).toBe(true);
    await admin.session(cSession).waitFor({ state: "detached" });
    expect(await admin.root.locator("[data-admin=note]").getAttribute("data-tone")).toBe("good");

    // D: bob signs in on a phone; "End all" for bob signs him out.
    const d = await open({ userAgent: IPHONE, viewport: { width: 390, height: 844 }, isMobile: true });
    const dSession = await signIn(d.page, "bob");
    await admin.session(dSession).waitFor();
    await admin.session(dSession).getByRole("button", { name: "End all sessions of bob" }).click();
    await d.page.getByRole("alertdialog").waitFor({ state: "visible" });
    expect(await d.page.getByRole("alertdialog").getAttribute("data-reason")).toBe("revoked");
    await admin.event("revoked", dSession).waitFor();
    await admin.session(dSession).waitFor({ state: "detached" });

    expect(await a.page.evaluate(() => (window as Window & { sameDocument?: boolean }).sameDocument)).toBe(true);
    // Let the "new row" highlight fade before the screenshots.
    await a.page.locator("tr.is-new").first().waitFor({ state: "detached", timeout: 5000 });

    await a.page.emulateMedia({ colorScheme: "dark" });
    await shot(a.page, "admin-dark");
    // A tablet: the page does not scroll sideways (a wide table scrolls inside its card).
    await a.page.setViewportSize({ width: 820, height: 1000 });
    expect(await a.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(820);
    await shot(a.page, "admin-tablet-dark");
    await fullShot(c.page, "admin-c-ended-by-admin", false);
  });

  it("fits a phone, and goes away when the admin's own session ends", async () => {
    const a = await open({ userAgent: IPHONE, viewport: { width: 390, height: 844 }, isMobile: true });
    await signIn(a.page, "admin", "admin");
    const admin = adminView(a.page);
    await admin.feed.and(a.page.locator('[data-status="connected"]')).waitFor();
    await admin.root.locator("[data-admin=audit] tbody tr").first().waitFor();
    await a.page.locator("tr.is-new").first().waitFor({ state: "detached", timeout: 5000 });
    // Nothing is wider than the screen; the rows are cards that still name their fields.
    expect(await a.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const box = await admin.root.locator("[data-admin=sessions] tbody tr").first().boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(390);
    await shot(a.page, "admin-phone-light");
    await a.page.emulateMedia({ colorScheme: "dark" });
    await shot(a.page, "admin-phone-dark");
    const b = await open({ userAgent: UA.firefoxWindows });
    await signIn(b.page, "admin", "admin");
    await a.page.getByRole("alertdialog").waitFor({ state: "visible" });
    expect(await admin.root.count()).toBe(0);
    expect(await a.page.locator("#admin-slot").isHidden()).toBe(true);
    await adminView(b.page).root.waitFor();
  });

  it("catches up on what happened while its feed was offline", async () => {
    const a = await open({ userAgent: UA.chromeMac });
    await signIn(a.page, "admin", "admin");
    const admin = adminView(a.page);
    await admin.feed.and(a.page.locator('[data-status="connected"]')).waitFor();
    await a.context.setOffline(true);
    // The view closed its feed (the server may keep the dead connection until its ping times out,
    // but nothing that arrives on it reaches the page): what happens now, A learns only by catching up.
    await admin.feed.and(a.page.locator('[data-status="offline"]')).waitFor();

    const b = await open({ userAgent: UA.firefoxWindows });
    const bSession = await signIn(b.page, "carol");
    expect(await admin.session(bSession).count()).toBe(0);

    await a.context.setOffline(false);
    await admin.feed.and(a.page.locator('[data-status="connected"]')).waitFor({ timeout: 15_000 });
    await admin.session(bSession).waitFor();
    await admin.event("login", bSession).waitFor();
  });
});
