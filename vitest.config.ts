import { defineConfig } from "vitest/config";
import { SOURCE_ALIASES } from "./scripts/source-aliases.js";

// Unit and integration files run in parallel first; the timing-sensitive browser tests and the
// load test then run alone, one file at a time, so a busy 2-core machine does not skew them.
export default defineConfig({
  // The SDK and the demo import the wire contract by its package name, the demo the SDK by
  // its, and store tests the contract suite by its public path; tests run them from source.
  resolve: { alias: SOURCE_ALIASES },
  test: {
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: { name: "integration", include: ["test/integration/**/*.test.ts"], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Packs both packages and installs them from the tarballs (npm, better-sqlite3 compiled):
        // minutes, alone.
        extends: true,
        test: {
          name: "package",
          include: ["test/package/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 900_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "load",
          include: ["test/load/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 180_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
