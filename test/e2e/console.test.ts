import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { demoForAll } from "./demo.js";

// Issue 14, point 8: an anonymous visitor's page load is not an error. The SDK's start-up check
// asks `GET /auth/session?optional=true`, which the server answers 200 { session: null } when
// the request carries no credential at all, so Chromium has no failed request to log.

const demo = demoForAll();
afterEach(() => {
  demo.consoleErrors.splice(0);
});

/** The status of the page's start-up check, as the browser's resource timing saw it. */
function startUpCheck(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((entry) => new URL(entry.name).pathname === "/auth/session")
      .map((entry) => (entry as PerformanceResourceTiming).responseStatus),
  );
}

describe("an anonymous page load", () => {
  for (const path of ["/", "/react.html"]) {
    it(`${path}: logs no console error; the start-up check was answered 200`, async () => {
      // (The React page in StrictMode may check twice: its first client is made and destroyed.)
      const { page } = await demo.open({}, path);
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      await page.waitForLoadState("networkidle");
      const checks = await startUpCheck(page);
      expect(checks.length).toBeGreaterThan(0);
      expect(checks.every((status) => status === 200)).toBe(true);
      expect(demo.consoleErrors).toEqual([]);

      // The watch does see such errors: the same check without ?optional=true is a 401 that
      // Chromium logs (what every anonymous load logged before).
      const logged = page.waitForEvent("console", (message) => message.type() === "error");
      expect(await page.evaluate(async () => (await fetch("/auth/session")).status)).toBe(401);
      expect((await logged).text()).toMatch(/401/);
      expect(demo.consoleErrors).toHaveLength(1);
    });
  }
});
