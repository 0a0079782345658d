import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ClaimResult,
  type Decide,
  runStoreContract,
  type SessionRecord,
  type SessionStore,
} from "solo-session/server/testing";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../server/index.js";

const ROOT = join(import.meta.dirname, "../..");

/** A user's own store, as an app would write one: here a MemoryStore that counts its claims. */
class CountingStore extends MemoryStore implements SessionStore {
  static claims = 0;

  override claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    CountingStore.claims++;
    return super.claim(session, decide);
  }
}

runStoreContract({ name: "a user-defined store", open: () => new CountingStore(), close: (store) => store.close() });

describe("solo-session/server/testing", () => {
  it("ran the contract against the user's class", () => {
    expect(CountingStore.claims).toBeGreaterThan(100);
  });

  it("is a package export, types first, of the file the server build emits; vitest is an optional peer", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const entry = pkg.exports["./server/testing"];
    expect(Object.keys(entry)).toEqual(["types", "default"]);
    expect(entry).toEqual({ types: "./dist/server/testing/index.d.ts", default: "./dist/server/testing/index.js" });
    const build = JSON.parse(readFileSync(join(ROOT, "tsconfig.build.json"), "utf8"));
    expect(build.compilerOptions).toMatchObject({ rootDir: ".", outDir: "dist", declaration: true });
    expect(build.include).toContain("server");
    expect(existsSync(join(ROOT, "server/testing/index.ts"))).toBe(true);
    expect(pkg.peerDependencies.vitest).toBeTypeOf("string");
    expect(pkg.peerDependenciesMeta.vitest).toEqual({ optional: true });
  });
});
