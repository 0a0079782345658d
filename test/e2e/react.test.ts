import { describe, expect, it } from "vitest";
import type { SessionResponse } from "../../protocol/index.js";
import { UA } from "../support/client.js";
import { demoForAll, live, shot, signIn } from "./demo.js";

const demo = demoForAll();

describe("the React example page (SoloProvider + useSoloSession, in StrictMode)", () => {
  it("signs in with one socket, shows the kick from another browser, and signs out", async () => {
    const a = await demo.open({ userAgent: UA.chromeMac }, "/react.html");
    await a.page.getByRole("button", { name: "Sign in" }).waitFor();
    await signIn(a.page, "alice");
    await live(a.page);
    await a.page.getByLabel("Draft note").fill("drafted in React");
    await a.page.getByRole("button", { name: "Load notes" }).click();
    await a.page.locator('#notes-status[data-status="200"]').waitFor();
    // StrictMode runs the provider's effect twice: still one client, one socket of the session.
    const session = await a.page.evaluate(
      async () => ((await (await fetch("/auth/session")).json()) as SessionResponse).session.id,
    );
    expect(demo.sockets.count(session)).toBe(1);
    expect(demo.sockets.connections(session)).toHaveLength(1);
    await shot(a.page, "react-1-signed-in");

    // A reload keeps the session (the client made in the effect restores it from the cookie).
    await a.page.reload();
    await a.page.getByRole("heading", { name: "Signed in as alice" }).waitFor();
    expect(await a.page.getByLabel("Draft note").inputValue()).toBe("drafted in React");

    const b = await demo.open({ userAgent: UA.firefoxWindows }, "/react.html");
    await b.page.getByRole("button", { name: "Sign in" }).waitFor();
    await signIn(b.page, "alice");
    const warning = a.page.getByRole("alertdialog");
    await warning.waitFor({ state: "visible", timeout: 5000 });
    expect(await warning.getAttribute("data-reason")).toBe("replaced");
    expect(await warning.textContent()).toContain("Firefox");
    expect(await a.page.evaluate(() => localStorage.getItem("demo:draft"))).toBeNull();
    await shot(a.page, "react-2-kicked", false);
    await warning.getByRole("button", { name: "OK" }).click();
    await a.page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await a.page.locator("#ended").getAttribute("data-code")).toBe("session_replaced");

    await live(b.page);
    await b.page.getByRole("button", { name: "Sign out", exact: true }).click();
    await b.page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await b.page.getByRole("alertdialog").count()).toBe(0);
  });
});
