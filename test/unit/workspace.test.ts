import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SOURCE_ALIASES } from "../../scripts/source-aliases.js";

// The package names the repository's own code imports resolve to the same sources for
// TypeScript (tsconfig.json's paths) as for Vite and Vitest (SOURCE_ALIASES), and the
// workspaces are the two packages' and the examples'.

const ROOT = join(import.meta.dirname, "../..");
const json = (path: string) => JSON.parse(readFileSync(join(ROOT, path), "utf8"));

describe("the workspace", () => {
  it("tsconfig.json's paths and SOURCE_ALIASES name the same package names and the same files", () => {
    const paths = json("tsconfig.json").compilerOptions.paths as Record<string, string[]>;
    const fromTs = Object.fromEntries(
      Object.entries(paths).map(([name, [target]]) => [name, join(ROOT, target ?? "")]),
    );
    const fromAliases = Object.fromEntries(
      SOURCE_ALIASES.map(({ find, replacement }) => [
        find.source.replace(/^\^|\$$/g, "").replace(/\\\//g, "/"),
        replacement,
      ]),
    );
    expect(fromAliases).toEqual(fromTs);
  });

  it("the root package is the server, its workspaces the client package and the examples", () => {
    const root = json("package.json");
    expect(root.name).toBe("solo-session");
    expect(root.workspaces).toEqual(["packages/*", "examples/*"]);
    expect(root.exports["./client"]).toBeUndefined();
    expect(root.exports["./react"]).toBeUndefined();
    expect(json("packages/client/package.json").name).toBe("@solo-session/client");
    // The React example depends on the client package and nothing of the server.
    const example = json("examples/react-client/package.json");
    expect(Object.keys(example.dependencies).sort()).toEqual(["@solo-session/client", "react", "react-dom"]);
    expect(JSON.stringify(example)).not.toMatch(/"solo-session"|file:/);
  });
});
