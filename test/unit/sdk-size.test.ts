import { randomBytes } from "node:crypto";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGET, bundleApp, check, kb } from "../../scripts/size.mjs";
import { tempDir } from "../support/server.js";

const ROOT = join(import.meta.dirname, "../..");
let dir: string;

// The library build, fresh, into a temp dir: the budget is checked on what this commit builds.
beforeAll(async () => {
  dir = tempDir("solo-size-");
  await build({
    configFile: join(ROOT, "packages/client/vite.config.ts"),
    logLevel: "silent",
    build: { outDir: dir, emptyOutDir: true, sourcemap: false },
  });
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("size budget (min+gzip, socket.io-client and React excluded)", () => {
  it(`core <= ${kb(BUDGET.core)}, React binding <= ${kb(BUDGET.react)}, the UI and the heartbeat election on demand`, async () => {
    const { measured, problems } = await check(dir);
    expect(problems).toEqual([]);
    expect(measured.core.files).toEqual(["solo-client.js"]);
    expect(measured.core.gzip).toBeLessThanOrEqual(BUDGET.core);
    expect(measured.react?.files).toEqual(["react.js"]);
    expect(measured.react?.gzip).toBeLessThanOrEqual(BUDGET.react);
    expect(measured.onDemand.map((c) => c.file).sort()).toEqual(["dialog.js", "heartbeat.js"]);
  });

  it("an app importing only createSoloClient has no UI code up front; the warning is a chunk it loads on demand", async () => {
    const app = await bundleApp(dir, 'import { createSoloClient } from "./solo-client.js"; createSoloClient();');
    expect(app.entry).toContain("createSoloClient");
    expect(app.entry).not.toContain("You have been signed out");
    const ui = app.chunks.filter((c) => c.text.includes("You have been signed out"));
    expect(ui).toHaveLength(1);
    expect(app.entry).toMatch(/import\(["']\.\/dialog-[\w-]+\.js["']\)/);
  });

  it("fails, with a line that says so, when a build is over budget", async () => {
    const fat = tempDir("solo-size-fat-");
    try {
      cpSync(dir, fat, { recursive: true });
      // Random text does not compress: 1 KB more random bytes than the budget puts the core over it.
      const padding = randomBytes(BUDGET.core + 1024).toString("base64");
      writeFileSync(join(fat, "solo-client.js"), `export function createSoloClient() { return "${padding}"; }\n`);
      const { problems } = await check(fat);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^core is [\d.]+ KB min\+gzip, over the 6\.75 KB budget$/);
    } finally {
      rmSync(fat, { recursive: true, force: true });
    }
  });
});
