import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { SessionResponse } from "../../protocol/index.js";
import { UA } from "../support/client.js";
import { demoForAll, fillSignIn, live, shot, signIn } from "./demo.js";

/** The active session as A's page sees it (device and since when). */
async function sessionOf(page: Page): Promise<SessionResponse["session"]> {
  return page.evaluate(async () => ((await (await fetch("/auth/session")).json()) as SessionResponse).session);
}

/** The time as the demo prints it for a session started at `iso` (today): "10:42" in the page's locale. */
function timeIn(page: Page, iso: string): Promise<string> {
  return page.evaluate(
    (at) => new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }).format(new Date(at)),
    iso,
  );
}

/** True when the focused element is inside the dialog. */
function focusIn(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((s) => document.activeElement?.closest(s) != null, selector);
}

describe("confirm policy, in the demo", () => {
  const demo = demoForAll({ SOLO_POLICY: "confirm" });

  it('asks "continue here?" naming the other device and since when; continuing signs that device out', async () => {
    const a = await demo.open({ userAgent: UA.chromeMac });
    const b = await demo.open({ userAgent: UA.firefoxWindows });
    await signIn(a.page, "alice");
    await live(a.page);
    const active = await sessionOf(a.page);

    // B tries: the dialog names A's device and since when, and takes focus.
    await fillSignIn(b.page, "alice");
    const ask = b.page.getByRole("alertdialog", { name: "Continue here?" });
    await ask.waitFor({ state: "visible" });
    expect(await ask.getAttribute("aria-modal")).toBe("true");
    const description = await b.page.locator(`#${await ask.getAttribute("aria-describedby")}`).textContent();
    expect(description).toContain("Chrome on Mac OS");
    expect(description).toContain(`since ${await timeIn(b.page, active.createdAt)}`);
    expect(await focusIn(b.page, "dialog")).toBe(true);
    expect(await b.page.evaluate(() => document.activeElement?.textContent)).toBe("Continue here");
    await shot(b.page, "policy-1-b-continue-here-light", false);

    // Escape: nothing happens to A, B stays on the sign-in form with focus back on "Sign in".
    await b.page.keyboard.press("Escape");
    await ask.waitFor({ state: "detached" });
    expect(await b.page.evaluate(() => document.activeElement?.id)).toBe("signin-button");
    expect(await b.page.getByRole("heading", { name: "Signed in as alice" }).count()).toBe(0);
    expect((await sessionOf(a.page)).id).toBe(active.id);
    expect(await a.page.getByRole("alertdialog").count()).toBe(0);

    // Again, and continue: A gets the warning naming B's device (reason replaced), B is in.
    await fillSignIn(b.page, "alice");
    await ask.waitFor({ state: "visible" });
    await ask.getByRole("button", { name: "Continue here" }).click();
    await b.page.getByRole("heading", { name: "Signed in as alice" }).waitFor();
    const warning = a.page.getByRole("alertdialog");
    await warning.waitFor({ state: "visible", timeout: 5000 });
    expect(await warning.getAttribute("data-reason")).toBe("replaced");
    const text = await warning.textContent();
    expect(text).toContain("Firefox");
    expect(text).toContain("Windows");
    expect(await a.page.locator("#ended").getAttribute("data-code")).toBe("session_replaced");
    await live(b.page);
    expect((await sessionOf(b.page)).id).not.toBe(active.id);
  });

  it("the dialog in the dark scheme and at phone width", async () => {
    const a = await demo.open({ userAgent: UA.chromeMac });
    const b = await demo.open({
      userAgent: UA.firefoxWindows,
      colorScheme: "dark",
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    await signIn(a.page, "bob");
    await fillSignIn(b.page, "bob");
    const ask = b.page.getByRole("alertdialog", { name: "Continue here?" });
    await ask.waitFor({ state: "visible" });
    // Both buttons are on screen at phone width.
    for (const name of ["Continue here", "Cancel"]) {
      expect(await ask.getByRole("button", { name }).isVisible()).toBe(true);
    }
    await shot(b.page, "policy-2-b-continue-here-phone-dark", false);
    await ask.getByRole("button", { name: "Cancel" }).click();
    await ask.waitFor({ state: "detached" });
    expect(await a.page.getByRole("alertdialog").count()).toBe(0);
  });
});

describe("oldest-wins policy, in the demo", () => {
  const demo = demoForAll({ SOLO_POLICY: "oldest-wins" });

  it("refuses the second sign-in clearly, naming the device in use and since when, with no takeover", async () => {
    const a = await demo.open({ userAgent: UA.chromeMac });
    const b = await demo.open({ userAgent: UA.firefoxWindows });
    await signIn(a.page, "carol");
    await live(a.page);
    const active = await sessionOf(a.page);

    await fillSignIn(b.page, "carol");
    const refusal = b.page.getByRole("alert");
    await refusal.waitFor({ state: "visible" });
    expect(await refusal.getAttribute("data-code")).toBe("session_active");
    const text = await refusal.textContent();
    expect(text).toContain("Chrome on Mac OS");
    expect(text).toContain(`since ${await timeIn(b.page, active.createdAt)}`);
    expect(await b.page.getByRole("alertdialog").count()).toBe(0);
    expect(await b.page.getByRole("button", { name: "Continue here" }).count()).toBe(0);
    expect(await b.page.getByRole("heading", { name: "Signed in as carol" }).count()).toBe(0);
    await shot(b.page, "policy-3-b-refused-oldest-wins");

    // A is untouched.
    expect((await sessionOf(a.page)).id).toBe(active.id);
    expect(await a.page.getByRole("alertdialog").count()).toBe(0);
  });
});
