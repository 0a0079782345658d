import type { Page } from "playwright-core";
import { describe, expect, it, vi } from "vitest";
import { UA } from "../support/client.js";
import { demoForAll, live, sessionIdOf, shot, signIn } from "./demo.js";

// Issue 17 in real Chromium: the demo's "Your devices" panel, and "This wasn't me" from the
// device that was signed out.

/** The "Your devices" panel of a page. */
function devices(page: Page) {
  const panel = page.getByRole("region", { name: "Your devices" });
  return {
    panel,
    list: panel.getByRole("list", { name: "Your devices" }),
    items: panel.getByRole("listitem"),
    status: panel.getByRole("status"),
  };
}

/** Moves focus with Tab until the element matching `name` (a button) has it; fails after `max` presses. */
async function tabTo(page: Page, name: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      let el: Element | null = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el ? (el.getAttribute("aria-label") ?? el.textContent ?? "").trim() : "";
    });
    if (focused === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

describe('"Your devices" (policy max:3)', () => {
  const demo = demoForAll({ SOLO_POLICY: "max:3" });

  it("lists the user's devices, this one marked; ends one by keyboard and all others; the devices are told at once", async () => {
    const laptop = await demo.open({ userAgent: UA.chromeMac, colorScheme: "light" });
    const pc = await demo.open({ userAgent: UA.firefoxWindows, colorScheme: "dark" });
    const third = await demo.open({ userAgent: UA.chromeMac });
    await signIn(laptop.page, "alice");
    await signIn(pc.page, "alice");
    await live(pc.page);
    await signIn(third.page, "alice");
    await live(third.page);
    const laptopId = await sessionIdOf(laptop.page);
    const pcId = await sessionIdOf(pc.page);

    const mine = devices(laptop.page);
    await mine.panel.getByRole("button", { name: "Refresh" }).click();
    await vi.waitFor(async () => expect(await mine.items.count()).toBe(3));
    const here = mine.list.locator(`[data-session-id="${laptopId}"]`);
    expect(await here.textContent()).toContain("This device");
    expect(await here.getByRole("button").count()).toBe(0);
    const pcItem = mine.list.locator(`[data-session-id="${pcId}"]`);
    expect(await pcItem.textContent()).toContain("Firefox 132 on Windows 10");
    expect(await pcItem.textContent()).toMatch(/IP 127\.0\.0\.1 · Signed in .* · Last active /);
    await mine.panel.scrollIntoViewIfNeeded();
    await mine.panel.screenshot({ path: "test-results/e2e/devices-panel.png" });
    await shot(laptop.page, "devices-page");

    // By keyboard only: Tab to "Sign out Firefox 132 on Windows 10", Enter.
    await tabTo(laptop.page, "Sign out Firefox 132 on Windows 10");
    await laptop.page.keyboard.press("Enter");
    await pc.page.getByRole("alertdialog").waitFor({ state: "visible", timeout: 5000 });
    expect(await pc.page.getByRole("alertdialog").textContent()).toContain("signed out from another of your devices");
    // An ended session by the user: nothing to dispute.
    expect(await pc.page.getByRole("button", { name: "This wasn't me" }).count()).toBe(0);
    await vi.waitFor(async () => expect(await mine.items.count()).toBe(2));
    expect(await mine.status.textContent()).toContain("Signed out Firefox 132 on Windows 10");
    // Focus stayed in the panel.
    expect(await laptop.page.evaluate(() => document.activeElement?.id)).toBe("devices-refresh");

    await mine.panel.getByRole("button", { name: "Sign out all other devices" }).click();
    await third.page.getByRole("alertdialog").waitFor({ state: "visible", timeout: 5000 });
    await vi.waitFor(async () => expect(await mine.items.count()).toBe(1));
    expect(await mine.panel.getByRole("button", { name: "Sign out all other devices" }).isDisabled()).toBe(true);
    await live(laptop.page);
  });

  it("the React example's panel (useSoloSessions) lists and ends a device", async () => {
    const a = await demo.open({ userAgent: UA.chromeMac }, "/react.html");
    const b = await demo.open({ userAgent: UA.firefoxWindows }, "/react.html");
    await signIn(a.page, "bob");
    await signIn(b.page, "bob");
    await live(b.page);
    const mine = devices(a.page);
    await mine.panel.getByRole("button", { name: "Refresh" }).click();
    await vi.waitFor(async () => expect(await mine.items.count()).toBe(2));
    expect(await mine.list.getByText("This device").count()).toBe(1);
    await mine.panel.getByRole("button", { name: "Sign out Firefox on Windows" }).click();
    await b.page.getByRole("alertdialog").waitFor({ state: "visible", timeout: 5000 });
    await vi.waitFor(async () => expect(await mine.items.count()).toBe(1));
    expect(await mine.status.textContent()).toBe("Signed out Firefox on Windows.");
    await mine.panel.screenshot({ path: "test-results/e2e/devices-panel-react.png" });
  });

  it("fits a phone screen: one column, full-width buttons, nothing cut off", async () => {
    const phone = await demo.open({ viewport: { width: 375, height: 740 }, userAgent: UA.chromeMac, isMobile: true });
    const other = await demo.open({ userAgent: UA.firefoxWindows });
    await signIn(other.page, "carol");
    await signIn(phone.page, "carol");
    const mine = devices(phone.page);
    await vi.waitFor(async () => expect(await mine.items.count()).toBe(2));
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const button = mine.panel.getByRole("button", { name: "Sign out all other devices" });
    const box = await button.boundingBox();
    const panelBox = await mine.panel.boundingBox();
    expect(box && panelBox && box.width).toBeGreaterThan((panelBox?.width ?? 0) * 0.8);
    await mine.panel.scrollIntoViewIfNeeded();
    await mine.panel.screenshot({ path: "test-results/e2e/devices-panel-phone.png" });
  });
});

describe('"This wasn\'t me" (policy newest-wins)', () => {
  const demo = demoForAll();

  it("the signed-out device disputes the new sign-in by keyboard: the intruder is signed out and cannot dispute back; admins see it", async () => {
    const admin = await demo.open({ userAgent: UA.chromeMac });
    await signIn(admin.page, "admin", "admin");
    await admin.page.locator("section.admin").waitFor();
    const alice = await demo.open({ userAgent: UA.chromeMac, colorScheme: "light" });
    const intruder = await demo.open({ userAgent: UA.firefoxWindows });
    await signIn(alice.page, "alice");
    await live(alice.page);
    await signIn(intruder.page, "alice");
    await live(intruder.page);
    const intruderId = await sessionIdOf(intruder.page);

    const warning = alice.page.getByRole("alertdialog");
    await warning.waitFor({ state: "visible", timeout: 5000 });
    const notMe = warning.getByRole("button", { name: "This wasn't me" });
    await notMe.waitFor();
    const ok = warning.getByRole("button", { name: "OK" });
    // Focus starts on OK (the safe choice); Tab moves to "This wasn't me" and stays in the dialog.
    expect(await ok.evaluate((b) => (b.getRootNode() as ShadowRoot).activeElement === b)).toBe(true);
    await shot(alice.page, "dispute-warning", false);
    await alice.page.keyboard.press("Tab");
    expect(await notMe.evaluate((b) => (b.getRootNode() as ShadowRoot).activeElement === b)).toBe(true);
    await alice.page.keyboard.press("Enter");

    await vi.waitFor(
      async () => expect(await warning.getByRole("status").textContent()).toContain("the other sign-in was ended"),
      { timeout: 5000 },
    );
    expect(await notMe.count()).toBe(0);
    expect(await ok.evaluate((b) => (b.getRootNode() as ShadowRoot).activeElement === b)).toBe(true);
    await shot(alice.page, "dispute-done", false);

    // The intruder's page is told at once (revoked) and offers no "This wasn't me".
    const intruderWarning = intruder.page.getByRole("alertdialog");
    await intruderWarning.waitFor({ state: "visible", timeout: 5000 });
    expect(await intruderWarning.getByRole("button", { name: "This wasn't me" }).count()).toBe(0);
    await intruder.page.keyboard.press("Escape");
    await intruder.page.getByRole("button", { name: "Sign in" }).waitFor();

    // The admin view shows the dispute live, on the intruder's session.
    const row = admin.page.locator(
      `[data-admin=audit] tbody tr[data-kind="disputed"][data-session-id="${intruderId}"]`,
    );
    await row.waitFor({ timeout: 5000 });
    expect(await row.textContent()).toContain("Disputed");
    await admin.page.locator("section.admin").screenshot({ path: "test-results/e2e/dispute-admin.png" });

    // Alice's page logged it; her OK closes the warning.
    await ok.click();
    expect(await alice.page.locator("#log").textContent()).toContain("Disputed");
  });
});
